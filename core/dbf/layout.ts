/**
 * Opens a DBF with dbffile (header, field descriptors, its own validation) and checks what the hot
 * loop relies on: record length = 1 + the sum of field lengths, and the file really holds every
 * record the header declares. The result is plain data a worker can use to read fixed offsets.
 */
import { open, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { DBFFile } from 'dbffile';
import { ReconError } from '../errors.js';

export interface FieldLayout {
  name: string;
  type: string;
  size: number;
  decimals: number;
  /** Byte offset inside a record, counting the one-byte deletion flag. */
  offset: number;
}

export interface DbfLayout {
  file: string;
  size: number;
  headerLength: number;
  recordLength: number;
  recordCount: number;
  fields: FieldLayout[];
  /** Text encoding for character fields: from config, else the language driver byte, else latin1. */
  encoding: string;
  languageDriver: number;
}

// Language driver ids (header byte 29) that name code pages we decode differently from Latin-1.
const LANGUAGE_DRIVERS: Record<number, string> = { 0x57: 'windows-1252', 0x03: 'windows-1252', 0x01: 'ibm437', 0x02: 'ibm850', 0x64: 'ibm852', 0xc8: 'windows-1250', 0xc9: 'windows-1251' };

export async function readDbfLayout(file: string, encodingOverride?: string): Promise<DbfLayout> {
  const name = basename(file);
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (err) {
    throw new ReconError('RECON_FETCH', `cannot read ${name}: ${(err as Error).message}`, { file: name }, { cause: err });
  }
  if (size < 33) {
    throw new ReconError('RECON_DBF_TRUNCATED', `${name} is ${size} bytes, shorter than a DBF header`, { file: name, record: 0 });
  }
  let dbf: DBFFile;
  try {
    dbf = await DBFFile.open(file, { readMode: 'strict', includeDeletedRecords: true });
  } catch (err) {
    throw new ReconError('RECON_DBF_HEADER', `${name} has an invalid DBF header: ${(err as Error).message}`, { file: name }, { cause: err });
  }
  const languageDriver = await readByte(file, 29);
  const fields: FieldLayout[] = [];
  let offset = 1;
  for (const f of dbf.fields) {
    fields.push({ name: f.name, type: f.type, size: f.size, decimals: f.decimalPlaces ?? 0, offset });
    offset += f.size;
  }
  const headerLength = dbf._headerLength;
  const recordLength = dbf._recordLength;
  if (recordLength !== offset) {
    throw new ReconError('RECON_DBF_HEADER', `${name}: header record length ${recordLength} differs from 1 + sum of field lengths (${offset})`, { file: name });
  }
  const expected = headerLength + dbf.recordCount * recordLength;
  if (size < expected) {
    const complete = Math.floor((size - headerLength) / recordLength);
    const cutAt = (size - headerLength) - complete * recordLength;
    const field = fields.find((f) => cutAt >= f.offset && cutAt < f.offset + f.size)?.name;
    throw new ReconError('RECON_DBF_TRUNCATED',
      `${name} is truncated: the header declares ${dbf.recordCount} records but the file ends inside record ${complete + 1} (${size} of ${expected} bytes)`,
      { file: name, record: complete + 1, field });
  }
  return {
    file, size, headerLength, recordLength, recordCount: dbf.recordCount, fields,
    encoding: encodingOverride ?? LANGUAGE_DRIVERS[languageDriver] ?? 'latin1',
    languageDriver,
  };
}

async function readByte(file: string, position: number): Promise<number> {
  const handle = await open(file, 'r');
  try {
    const buf = Buffer.alloc(1);
    await handle.read(buf, 0, 1, position);
    return buf[0];
  } finally {
    await handle.close();
  }
}
