/**
 * The DBF header read byte by byte: version, record count (unsigned), header and record lengths,
 * language driver and field descriptors. Read here rather than by dbffile, which refuses whole
 * files for fields and versions the engine never needs (Visual FoxPro, wide numbers, `_NullFlags`,
 * a missing memo file): what matters is decided per column, by the columns a source reads.
 *
 * Layout (dBase III and every later writer of the same shape): 32 bytes of header, 32 bytes per
 * field descriptor, a 0x0D terminator (Visual FoxPro adds a 263-byte backlink), then records of
 * fixed length, each starting with a deletion flag, and an optional 0x1A end marker.
 */
import { ReconError } from '../errors.js';

export interface FieldDescriptor {
  /** As the header writes it (bytes up to the first NUL, Latin-1; see `decodedName`). */
  name: string;
  rawName: Uint8Array;
  type: string;
  size: number;
  decimals: number;
  /** Byte offset inside a record, counting the one-byte deletion flag. */
  offset: number;
}

export interface DbfHeader {
  version: number;
  versionName: string;
  /** Header bytes 4–7, unsigned. */
  declaredRecords: number;
  headerLength: number;
  recordLength: number;
  languageDriver: number;
  fields: FieldDescriptor[];
}

// Version bytes with the dBase III header layout, and what wrote them.
const VERSIONS: Record<number, string> = {
  0x03: 'dBase III / FoxPro, no memo',
  0x83: 'dBase III with memo',
  0x8b: 'dBase IV with memo',
  0xcb: 'dBase IV with SQL table and memo',
  0x43: 'dBase IV SQL table',
  0x63: 'dBase IV SQL system file',
  0x7b: 'dBase IV with memo',
  0xb3: 'Visual Objects with memo',
  0x05: 'dBase V',
  0xe5: 'Clipper SIX with SMT memo',
  0xf5: 'FoxPro 2 with memo',
  0xfb: 'FoxBASE',
  0x30: 'Visual FoxPro',
  0x31: 'Visual FoxPro with auto-increment',
  0x32: 'Visual FoxPro with varchar/varbinary',
};

// Layouts that only look like a DBF to this reader: refused by name.
const REFUSED: Record<number, string> = {
  0x02: 'dBase II (its header has a different layout: 8-bit record count at byte 1, 16-byte field descriptors)',
  0x04: 'dBase 7 (its field descriptors are 48 bytes and names 32 characters)',
  0x8c: 'dBase 7 with memo (its field descriptors are 48 bytes and names 32 characters)',
};

const DESCRIPTOR = 32;

/** The version byte's description, for people. */
export function versionName(version: number): string {
  return VERSIONS[version] ?? REFUSED[version] ?? 'unknown';
}

/**
 * Parses the header from the first bytes of a file (at least the header length, or the whole file
 * when it is shorter). `size` is the file's full size, to tell a cut header from a bad one.
 */
export function parseHeader(bytes: Uint8Array, size: number, name: string): DbfHeader {
  if (size < 32 || bytes.length < 32) {
    throw new ReconError(
      'RECON_DBF_TRUNCATED',
      `${name} is ${size} bytes, shorter than a DBF header (32 bytes)`,
      { file: name, record: 0 },
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = bytes[0];
  if (REFUSED[version] !== undefined) {
    throw new ReconError(
      'RECON_DBF_HEADER',
      `${name} is a ${REFUSED[version]} file; only dBase III-style layouts (dBase III/IV, FoxPro, Visual FoxPro) are read`,
      { file: name, version: hexByte(version) },
    );
  }
  if (VERSIONS[version] === undefined) {
    throw new ReconError(
      'RECON_DBF_HEADER',
      `${name}: version byte ${hexByte(version)} is not a DBF version this reader knows (${Object.keys(
        VERSIONS,
      )
        .map((v) => hexByte(Number(v)))
        .join(', ')})`,
      { file: name, version: hexByte(version) },
    );
  }
  const declaredRecords = view.getUint32(4, true);
  const headerLength = view.getUint16(8, true);
  const recordLength = view.getUint16(10, true);
  const languageDriver = bytes[29];
  if (recordLength < 1) {
    throw new ReconError(
      'RECON_DBF_HEADER',
      `${name}: record length 0 (bytes 10–11) is impossible`,
      { file: name },
    );
  }
  const fields: FieldDescriptor[] = [];
  let offset = 1;
  let at = 32;
  let terminated = false;
  for (;;) {
    // dBase III allows the header to end right after the last descriptor, with no terminator.
    if (at === headerLength && bytes[at] !== 0x0d) break;
    if (at >= bytes.length) {
      throw new ReconError(
        'RECON_DBF_TRUNCATED',
        `${name}: the file ends inside its header's field descriptors (after ${fields.length} field(s), at byte ${at}; the header declares ${headerLength} bytes)`,
        { file: name, record: 0 },
      );
    }
    if (bytes[at] === 0x0d) {
      terminated = true;
      break;
    }
    if (at + DESCRIPTOR > bytes.length) {
      throw new ReconError(
        'RECON_DBF_TRUNCATED',
        `${name}: the file ends inside field descriptor ${fields.length + 1} (byte ${at} of ${size}; the header declares ${headerLength} bytes)`,
        { file: name, record: 0 },
      );
    }
    const d = bytes.subarray(at, at + DESCRIPTOR);
    let nameEnd = 0;
    while (nameEnd < 11 && d[nameEnd] !== 0) nameEnd++;
    const rawName = d.slice(0, nameEnd);
    const type = String.fromCharCode(d[11]);
    let width = d[16];
    let decimals = d[17];
    // Character fields wider than 255 bytes keep the high byte of the length in the decimals byte.
    if (type === 'C') {
      width |= decimals << 8;
      decimals = 0;
    }
    fields.push({
      name: Buffer.from(rawName).toString('latin1'),
      rawName,
      type,
      size: width,
      decimals,
      offset,
    });
    offset += width;
    at += DESCRIPTOR;
  }
  const descriptorsEnd = terminated ? at + 1 : at;
  if (headerLength < descriptorsEnd) {
    throw new ReconError(
      'RECON_DBF_HEADER',
      `${name}: header length ${headerLength} (bytes 8–9) is impossible: the field descriptors end at byte ${descriptorsEnd}`,
      { file: name, headerLength },
    );
  }
  if (headerLength > size) {
    throw new ReconError(
      'RECON_DBF_HEADER',
      `${name}: header length ${headerLength} (bytes 8–9) is impossible: the file is only ${size} bytes`,
      { file: name, headerLength },
    );
  }
  if (offset > recordLength) {
    throw new ReconError(
      'RECON_DBF_HEADER',
      `${name}: header record length ${recordLength} is shorter than 1 + the sum of field lengths (${offset})`,
      { file: name },
    );
  }
  return {
    version,
    versionName: VERSIONS[version],
    declaredRecords,
    headerLength,
    recordLength,
    languageDriver,
    fields,
  };
}

export function hexByte(b: number): string {
  return `0x${b.toString(16).padStart(2, '0').toUpperCase()}`;
}
