/**
 * DBF fields are padded with spaces, and some writers pad with NUL: the one rule for where a
 * field's value starts and ends.
 */

function isPadding(b: number): boolean {
  return b === 0x20 || b === 0;
}

/** The first byte of [start, end) that is not padding (end when all of it is). */
export function unpaddedStart(buf: Uint8Array, start: number, end: number): number {
  while (start < end && isPadding(buf[start])) start++;
  return start;
}

/** One past the last byte of [start, end) that is not padding (start when all of it is). */
export function unpaddedEnd(buf: Uint8Array, start: number, end: number): number {
  while (end > start && isPadding(buf[end - 1])) end--;
  return end;
}
