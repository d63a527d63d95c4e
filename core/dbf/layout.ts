/**
 * Opens a DBF: its header (header.ts), the code page of its text, and how many records it really
 * holds. The header's record count (bytes 4–7) and the file's size must agree: files re-saved by
 * careless tools carry stale counts, and reading the header's count then drops or invents records
 * silently. A mismatch fails with RECON_DBF_COUNT unless the source asks to read every complete
 * record present (`recordCount: present`); either way both counts are kept for the run document.
 * The result is plain data a worker can use to read fixed offsets.
 */
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { fetchError, ReconError } from '../errors.js';
import { chooseCodePage, rawDecoder, type CodePageOrigin } from './code-pages.js';
import { parseHeader } from './header.js';

export interface FieldLayout {
  name: string;
  type: string;
  size: number;
  decimals: number;
  /** Byte offset inside a record, counting the one-byte deletion flag. */
  offset: number;
}

/** Which record count a run trusts: the header's (mismatch is an error) or the file's. */
export type RecordCountPolicy = 'header' | 'present';

export interface DbfLayout {
  file: string;
  size: number;
  version: number;
  versionName: string;
  headerLength: number;
  recordLength: number;
  /**
   * Records the engine reads: the declared count, or with `present` the complete records present.
   */
  recordCount: number;
  /** The header's count (bytes 4–7, unsigned). */
  declaredRecords: number;
  /** Complete records the file holds after the header (a trailing 0x1A end marker is not one). */
  presentRecords: number;
  fields: FieldLayout[];
  /**
   * Text encoding for character fields: from config, else the language driver byte, else latin1.
   */
  encoding: string;
  encodingOrigin: CodePageOrigin;
  /** Set when the language driver names no known code page (the fallback is then latin1). */
  encodingNote?: string;
  languageDriver: number;
}

export interface LayoutOptions {
  encoding?: string;
  recordCount?: RecordCountPolicy;
}

export async function readDbfLayout(
  file: string,
  options: LayoutOptions | string = {},
): Promise<DbfLayout> {
  const opts: LayoutOptions = typeof options === 'string' ? { encoding: options } : options;
  const name = basename(file);
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    throw fetchError('read', name, err);
  }
  try {
    const size = (await handle.stat()).size;
    const head = Buffer.alloc(Math.min(size, 65536 + 32));
    await handle.read(head, 0, head.length, 0);
    const header = parseHeader(head, size, name);
    const body = size - header.headerLength;
    let complete = Math.floor(body / header.recordLength);
    let tail = Buffer.alloc(body - complete * header.recordLength);
    if (tail.length > 0)
      await handle.read(tail, 0, tail.length, header.headerLength + complete * header.recordLength);
    if (header.declaredRecords < complete) {
      // The 0x1A end marker right after the declared records: what follows is padding, not records.
      const flag = Buffer.alloc(1);
      await handle.read(
        flag,
        0,
        1,
        header.headerLength + header.declaredRecords * header.recordLength,
      );
      if (flag[0] === 0x1a) {
        complete = header.declaredRecords;
        tail = flag;
      }
    }
    return layoutOf(file, size, header, complete, tail, opts);
  } finally {
    await handle.close();
  }
}

function layoutOf(
  file: string,
  size: number,
  header: ReturnType<typeof parseHeader>,
  complete: number,
  tail: Buffer,
  opts: LayoutOptions,
): DbfLayout {
  const name = basename(file);
  const codePage = chooseCodePage(header.languageDriver, opts.encoding);
  const decodeName = rawDecoder(codePage.encoding);
  const fields: FieldLayout[] = header.fields.map((f) => ({
    name: decodeName(Buffer.from(f.rawName), 0, f.rawName.length),
    type: f.type,
    size: f.size,
    decimals: f.decimals,
    offset: f.offset,
  }));
  // Anything from a 0x1A end marker on is not data; a partial record is a cut file.
  const trailingBytes = tail.length > 0 && tail[0] === 0x1a ? 0 : tail.length;
  const declared = header.declaredRecords;
  const policy = opts.recordCount ?? 'header';
  if (trailingBytes > 0 && declared > complete) {
    const expected = header.headerLength + declared * header.recordLength;
    const cutAt = trailingBytes;
    const field = fields.find((f) => cutAt >= f.offset && cutAt < f.offset + f.size)?.name;
    throw new ReconError(
      'RECON_DBF_TRUNCATED',
      `${name} is truncated: the header declares ${declared} records but the file ends inside record ${complete + 1} (${size} of ${expected} bytes)`,
      {
        file: name,
        record: complete + 1,
        field,
        declaredRecords: declared,
        presentRecords: complete,
      },
    );
  }
  if (trailingBytes > 0) {
    throw new ReconError(
      'RECON_DBF_TRUNCATED',
      `${name}: ${trailingBytes} byte(s) after record ${complete} are neither a whole record nor the 0x1A end marker (a cut or padded file)`,
      { file: name, record: complete + 1, declaredRecords: declared, presentRecords: complete },
    );
  }
  if (declared !== complete && policy === 'header') {
    throw new ReconError(
      'RECON_DBF_COUNT',
      `${name}: the header declares ${declared} record(s) but the file's size (${size} bytes: header ${header.headerLength}, records of ${header.recordLength}) implies ${complete}; ` +
        'a stale count would drop or invent records silently (the source option recordCount: present reads every complete record present)',
      { file: name, declaredRecords: declared, presentRecords: complete },
    );
  }
  return {
    file,
    size,
    version: header.version,
    versionName: header.versionName,
    headerLength: header.headerLength,
    recordLength: header.recordLength,
    recordCount: policy === 'present' ? complete : declared,
    declaredRecords: declared,
    presentRecords: complete,
    fields,
    encoding: codePage.encoding,
    encodingOrigin: codePage.origin,
    encodingNote: codePage.note,
    languageDriver: header.languageDriver,
  };
}
