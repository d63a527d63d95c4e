/**
 * Registrar as-of dates. CAMS and KARVY write `dd-mm-yyyy`, `dd/mm/yyyy`, `dd-MMM-yyyy` in
 * character fields, or DBF `D` fields (`yyyymmdd`). Anything else is rejected, never guessed: a
 * day/month swap moves the whole reconciliation to the wrong ledger cut-off.
 */
import { ReconError, hex } from '../errors.js';

export type DateFormat = 'dd-mm-yyyy' | 'dd/mm/yyyy' | 'dd-MMM-yyyy' | 'yyyymmdd';
export const DATE_FORMATS: readonly DateFormat[] = [
  'dd-mm-yyyy',
  'dd/mm/yyyy',
  'dd-MMM-yyyy',
  'yyyymmdd',
];

const MONTHS: Record<string, number> = {
  JAN: 1,
  FEB: 2,
  MAR: 3,
  APR: 4,
  MAY: 5,
  JUN: 6,
  JUL: 7,
  AUG: 8,
  SEP: 9,
  OCT: 10,
  NOV: 11,
  DEC: 12,
};

const NUMERIC = /^(\d{1,2})([-/])(\d{1,2})\2(\d{4})$/;
const NAMED = /^(\d{1,2})[- ]([A-Za-z]{3})[- ](\d{4})$/;
const COMPACT = /^(\d{4})(\d{2})(\d{2})$/;

/** An ISO calendar day `yyyy-mm-dd`, or null when the text matches none of the allowed formats. */
export function parseAsOfDate(
  text: string,
  formats: readonly DateFormat[] = DATE_FORMATS,
): string | null {
  const t = text.replace(/[\0 ]+$/, '').replace(/^[\0 ]+/, '');
  let m = NUMERIC.exec(t);
  if (m) {
    const format: DateFormat = m[2] === '-' ? 'dd-mm-yyyy' : 'dd/mm/yyyy';
    if (!formats.includes(format)) return null;
    return isoDay(Number(m[4]), Number(m[3]), Number(m[1]));
  }
  m = NAMED.exec(t);
  if (m) {
    if (!formats.includes('dd-MMM-yyyy')) return null;
    const month = MONTHS[m[2].toUpperCase()];
    return month === undefined ? null : isoDay(Number(m[3]), month, Number(m[1]));
  }
  m = COMPACT.exec(t);
  if (m) {
    if (!formats.includes('yyyymmdd')) return null;
    return isoDay(Number(m[1]), Number(m[2]), Number(m[3]));
  }
  return null;
}

function isoDay(year: number, month: number, day: number): string | null {
  if (year < 1900 || year > 2999 || month < 1 || month > 12 || day < 1) return null;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > daysInMonth) return null;
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** The formats an as-of field is read in: a DBF `D` field is `yyyymmdd`, else the plugin's. */
export function asOfFormats(
  fieldType: string,
  pluginFormats: readonly DateFormat[],
): readonly DateFormat[] {
  return fieldType === 'D' ? ['yyyymmdd'] : pluginFormats;
}

/** Where an as-of value was read: file name, 1-based record number, field name. */
export interface AsOfPlace {
  file: string;
  record: number;
  field: string;
  source?: string;
}

/** RECON_DBF_DATE: an as-of value that is not a date in the allowed formats. */
export function notADate(
  at: AsOfPlace,
  formats: readonly DateFormat[],
  raw: Uint8Array,
): ReconError {
  const text = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('latin1');
  return new ReconError(
    'RECON_DBF_DATE',
    `${at.file}: record ${at.record} field ${at.field} is not a date in ${formats.join(', ')}: "${text.trim()}"`,
    { ...at, rawHex: hex(raw) },
  );
}
