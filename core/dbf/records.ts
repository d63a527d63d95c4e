/**
 * Every field of a few records, decoded by the same rules as the hot loop (decoder.ts): text in
 * the file's code page and trimmed, numbers by the units parser (at most four decimals) or, failing
 * that, as evidence (exponent form), dates as yyyymmdd. For `recon inspect` and for comparing the
 * decoder with other readers (scripts/dbf-corpus-check.py); never on the hot path.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { hex } from '../errors.js';
import { parseEvidenceBytes, parseUnitsBytes, SCALE_DIGITS } from '../fixed-point.js';
import { unpaddedStart } from '../field-padding.js';
import { parseAsOfDate } from './date-formats.js';
import { fieldTextDecoder } from './code-pages.js';
import type { DbfLayout, FieldLayout } from './layout.js';

/**
 * A field's value: text, a number as exact decimal text, a date, a boolean, null (blank), or why it
 * was not read.
 */
export type FieldValue =
  | string
  | boolean
  | null
  | { number: string; exponent?: true }
  | { date: string }
  | { unreadable: string; rawHex: string }
  | { notRead: string };

export interface DecodedRecord {
  /** 1-based, counting deleted records. */
  record: number;
  deleted: boolean;
  /** The deletion flag when it is neither ' ' nor '*' (a run refuses such a record). */
  badFlag?: string;
  /** In field order (names may repeat). */
  values: FieldValue[];
}

export function readRecords(layout: DbfLayout, start: number, count: number): DecodedRecord[] {
  const end = Math.min(layout.recordCount, start + count);
  const out: DecodedRecord[] = [];
  if (end <= start) return out;
  const buf = Buffer.alloc((end - start) * layout.recordLength);
  const fd = openSync(layout.file, 'r');
  try {
    readSync(fd, buf, 0, buf.length, layout.headerLength + start * layout.recordLength);
  } finally {
    closeSync(fd);
  }
  const text = fieldTextDecoder(layout.encoding);
  for (let r = 0; r < end - start; r++) {
    const base = r * layout.recordLength;
    const flag = buf[base];
    const values = layout.fields.map((f) => fieldValue(buf, base, f, text));
    out.push({
      record: start + r + 1,
      deleted: flag === 0x2a,
      ...(flag !== 0x20 && flag !== 0x2a ? { badFlag: hex(buf.subarray(base, base + 1)) } : {}),
      values,
    });
  }
  return out;
}

function fieldValue(
  buf: Buffer,
  base: number,
  f: FieldLayout,
  text: (b: Buffer, s: number, e: number) => string,
): FieldValue {
  const s = base + f.offset,
    e = s + f.size;
  const raw = buf.subarray(s, e);
  switch (f.type) {
    case 'C':
      return text(buf, s, e);
    case 'N':
    case 'F': {
      if (unpaddedStart(buf, s, e) === e) return null;
      const units = parseUnitsBytes(buf, s, e);
      if (!Number.isNaN(units)) return { number: decimalText(units) };
      const evidence = parseEvidenceBytes(buf, s, e);
      if (!Number.isNaN(evidence)) return { number: decimalText(evidence), exponent: true };
      return { unreadable: raw.toString('latin1').trim(), rawHex: hex(raw) };
    }
    case 'D': {
      if (raw.every((b) => b === 0x20 || b === 0 || b === 0x30)) return null;
      const day = parseAsOfDate(raw.toString('latin1'), ['yyyymmdd']);
      return day === null
        ? { unreadable: raw.toString('latin1').trim(), rawHex: hex(raw) }
        : { date: day };
    }
    case 'L': {
      const c = String.fromCharCode(raw[0] ?? 0x20);
      if ('TtYy'.includes(c)) return true;
      if ('FfNn'.includes(c)) return false;
      if ('? \0'.includes(c)) return null;
      return { unreadable: c, rawHex: hex(raw) };
    }
    default:
      return { notRead: f.type };
  }
}

/** Ten-thousandths as exact decimal text, trailing zeros dropped. */
function decimalText(units: number): string {
  const negative = units < 0;
  const digits = String(Math.abs(units)).padStart(SCALE_DIGITS + 1, '0');
  const whole = digits.slice(0, -SCALE_DIGITS);
  const frac = digits.slice(-SCALE_DIGITS).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${frac ? '.' + frac : ''}`;
}
