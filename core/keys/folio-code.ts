/**
 * Folio codes. A folio is held as a number: the folio itself when it is a plain whole number (no
 * leading zero, at most 15 digits, so exact in a double), else −(1 + id) of its text in a list of
 * text folios. Text ↔ code is one-to-one, so "00123" and "123" stay two folios, as they are two
 * strings. Every encoding and decoding of a code is here.
 */
import { unpaddedEnd, unpaddedStart } from '../field-padding.js';

/** numericFolioCode of a text that is not a plain whole number. */
export const NOT_NUMERIC = -1;
/** Folio bytes that are not a plain whole number of at most 15 digits: take the text path. */
export const NOT_PLAIN = -2;
/** Numeric folio bytes that are not a whole number at all: a bad record. */
export const NOT_WHOLE = -3;
/** The code of a text folio never met: matches no key (NaN equals nothing). */
export const UNKNOWN_FOLIO = Number.NaN;

/** The code of the text folio with id `id` in its list. */
export function textFolioCode(id: number): number {
  return -1 - id;
}

/** The id in its list of the text folio with code `code` (< 0). */
export function textFolioId(code: number): number {
  return -1 - code;
}

/** The folio code of a plain whole number's text, or NOT_NUMERIC when the text is not one. */
export function numericFolioCode(text: string): number {
  const n = text.length;
  if (n === 0 || n > 15 || (n > 1 && text.charCodeAt(0) === 0x30)) return NOT_NUMERIC;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) return NOT_NUMERIC;
    v = v * 10 + c;
  }
  return v;
}

/** The text of a folio code; `texts` is the list that negative codes index. */
export function folioText(code: number, texts: readonly string[]): string {
  return code >= 0 ? String(code) : texts[textFolioId(code)];
}

/**
 * ACNO-style numeric folio bytes as their code: the integer digits (leading zeros and a `.000`
 * tail dropped), never `123.0`. NOT_WHOLE when the bytes are not a whole number, NOT_PLAIN when it
 * has more digits than a double holds exactly.
 */
export function numericFolioBytes(buf: Uint8Array, from: number, to: number): number {
  let start = unpaddedStart(buf, from, to);
  const end = unpaddedEnd(buf, start, to);
  let dot = end;
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c === 0x2e) {
      dot = i;
      break;
    }
    if (c < 0x30 || c > 0x39) return NOT_WHOLE;
  }
  for (let i = dot + 1; i < end; i++) if (buf[i] !== 0x30) return NOT_WHOLE;
  if (start === dot) return NOT_WHOLE;
  while (start < dot - 1 && buf[start] === 0x30) start++;
  if (dot - start > 15) return NOT_PLAIN;
  let v = 0;
  for (let i = start; i < dot; i++) v = v * 10 + (buf[i] - 0x30);
  return v;
}

/**
 * Character folio bytes that are a plain whole number (no leading zero, at most 15 digits) as
 * their code, else NOT_PLAIN.
 */
export function plainDigits(buf: Uint8Array, from: number, to: number): number {
  const start = unpaddedStart(buf, from, to);
  const end = unpaddedEnd(buf, start, to);
  const len = end - start;
  if (len === 0 || len > 15 || (len > 1 && buf[start] === 0x30)) return NOT_PLAIN;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i] - 0x30;
    if (c < 0 || c > 9) return NOT_PLAIN;
    v = v * 10 + c;
  }
  return v;
}

/** The text of a numeric folio too long for a code: its integer digits, leading zeros dropped. */
export function numericFolio(buf: Buffer, from: number, end: number): string {
  let start = unpaddedStart(buf, from, end);
  let dot = start;
  while (dot < end && buf[dot] !== 0x2e && buf[dot] !== 0x20 && buf[dot] !== 0) dot++;
  while (start < dot - 1 && buf[start] === 0x30) start++;
  return buf.toString('latin1', start, dot);
}
