/**
 * The one CSV writer, for the files store's results.csv and the break report: RFC 4180 quoting
 * (a cell with a comma, quote, CR or LF is quoted, quotes doubled), empty for null, numbers as
 * `String(n)` writes them. Cells are encoded straight into large buffers: a bad day writes millions
 * of rows, and a string per cell, a stream write per row cost more than the bytes themselves.
 */
import type { Writable } from 'node:stream';
import { ChunkedWriter, MAX_BYTES_PER_UNIT } from './chunked-writer.js';

const NEEDS_QUOTES = /[",\n\r]/;
const QUOTE = /"/g;

/** One cell's text, the rule every cell the writer encodes follows. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  // Numbers and booleans never need quoting: skip the scan.
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text =
    typeof value === 'string'
      ? value
      : value instanceof Date
        ? value.toISOString()
        : typeof value === 'object'
          ? JSON.stringify(value)
          : String(value);
  return NEEDS_QUOTES.test(text) ? `"${text.replace(QUOTE, '""')}"` : text;
}

const COMMA = 0x2c,
  NEWLINE = 0x0a,
  MINUS = 0x2d,
  DOT = 0x2e,
  ZERO = 0x30;
const POWERS = [1, 10, 100, 1000, 10000, 100000, 1000000];
/** ASCII characters that make a cell quoted: comma, quote, LF and CR. */
const QUOTED = new Uint8Array(0x80);
for (const c of [COMMA, 0x22, NEWLINE, 0x0d]) QUOTED[c] = 1;

/**
 * Lines of cells: each cell method writes the cell and a comma, `endLine` turns the last comma
 * into the line's end.
 */
export class CsvWriter extends ChunkedWriter {
  constructor(out: Writable, chunkBytes?: number) {
    super(out, chunkBytes);
  }

  /** One line of these values, in order. */
  line(values: readonly unknown[]): void {
    for (const v of values) this.value(v);
    this.endLine();
  }

  endLine(): void {
    this.buf[this.used - 1] = NEWLINE;
  }

  empty(): void {
    this.room(1);
    this.buf[this.used++] = COMMA;
  }

  /** Any value, as `csvCell` writes it. */
  value(v: unknown): void {
    if (v === null || v === undefined) this.empty();
    else if (typeof v === 'string') this.text(v);
    else if (typeof v === 'number') this.number(v);
    else this.slow(csvCell(v));
  }

  /** Text, quoted when it holds a comma, quote, CR or LF; null and undefined are empty. */
  text(s: string | null | undefined): void {
    if (s === null || s === undefined) return this.empty();
    const n = s.length;
    this.room(n + 1);
    const buf = this.buf;
    let o = this.used;
    // Plain ASCII (almost every cell) is copied byte by byte; anything else takes `csvCell`.
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80 || QUOTED[c] !== 0) return this.slow(csvCell(s));
      buf[o++] = c;
    }
    buf[o++] = COMMA;
    this.used = o;
  }

  /** A number as `String(n)` writes it. */
  number(n: number): void {
    if (Number.isSafeInteger(n)) this.decimal(n, 0);
    else this.slow(String(n));
  }

  /**
   * `String(k / 10^places)` for a safe integer `k` (0 ≤ places ≤ 6): the exact decimal, trailing
   * zeros dropped, no "-0".
   */
  decimal(k: number, places: number): void {
    // Past 10^15 a double may not hold every digit: there `String` decides.
    if (!Number.isInteger(k) || Math.abs(k) >= 1e15) return this.slow(String(k / POWERS[places]));
    this.room(24);
    const buf = this.buf;
    let o = this.used;
    let m = k;
    if (m < 0) {
      buf[o++] = MINUS;
      m = -m;
    }
    const unit = POWERS[places];
    // Below 10^15 the quotient's floor is exact (its fraction is at least 1/unit, far above the
    // rounding); `%` on a double is a call to fmod, several times slower.
    const whole = Math.floor(m / unit);
    let frac = m - whole * unit;
    o = digits(buf, o, whole);
    if (frac !== 0) {
      buf[o++] = DOT;
      // Every place of the fraction (leading zeros too), then the trailing zeros taken back.
      for (let p = o + places - 1; p >= o; p--) {
        const q = (frac / 10) | 0;
        buf[p] = ZERO + (frac - q * 10);
        frac = q;
      }
      o += places;
      while (buf[o - 1] === ZERO) o--;
    }
    buf[o++] = COMMA;
    this.used = o;
  }

  /** Where the next byte goes: with `since`, the bytes of cells written after it. */
  mark(): number {
    return this.used;
  }

  /**
   * A copy of the bytes written since `mark` (no flush between them). A copy, not a view
   * (`Buffer#slice`): the buffer is used again for later chunks.
   */
  since(mark: number): Uint8Array {
    return Buffer.from(this.buf.subarray(mark, this.used));
  }

  /** Bytes of whole cells, as `since` gave them. */
  bytes(cells: Uint8Array): void {
    const n = cells.length;
    this.room(n);
    // A few cells: a loop is quicker than `set`, which costs a call into the runtime.
    if (n > 64) this.buf.set(cells, this.used);
    else for (let i = 0, o = this.used; i < n; i++) this.buf[o + i] = cells[i];
    this.used += n;
  }

  /** The number cell written from `mark` to `end` (marks), again with the opposite sign. */
  negated(mark: number, end: number): void {
    this.room(end - mark + 1);
    const buf = this.buf;
    let o = this.used;
    if (buf[mark] === MINUS) mark++;
    else if (!(buf[mark] === ZERO && buf[mark + 1] === COMMA)) buf[o++] = MINUS;
    for (let i = mark; i < end; i++) buf[o++] = buf[i];
    this.used = o;
  }

  /** A cell already in its CSV form. */
  private slow(cell: string): void {
    this.room(cell.length * MAX_BYTES_PER_UNIT + 1);
    this.used += this.buf.write(cell, this.used);
    this.buf[this.used++] = COMMA;
  }
}

/** The decimal digits of a non-negative safe integer at `o`; returns the offset past them. */
function digits(buf: Buffer, o: number, n: number): number {
  // Below 2^31 the digits come from integer arithmetic, which is several times faster than
  // floating division; above it the high part goes first, eight digits at a time.
  if (n < 0x80000000) return smallDigits(buf, o, n | 0);
  const high = Math.floor(n / 1e8);
  o = digits(buf, o, high);
  let low = (n - high * 1e8) | 0;
  for (let p = o + 7; p >= o; p--) {
    const q = (low / 10) | 0;
    buf[p] = ZERO + (low - q * 10);
    low = q;
  }
  return o + 8;
}

/** Digits of a non-negative integer below 2^31. */
function digitCount(n: number): number {
  return n < 1e5
    ? n < 100
      ? n < 10
        ? 1
        : 2
      : n < 1e3
        ? 3
        : n < 1e4
          ? 4
          : 5
    : n < 1e7
      ? n < 1e6
        ? 6
        : 7
      : n < 1e8
        ? 8
        : n < 1e9
          ? 9
          : 10;
}

function smallDigits(buf: Buffer, o: number, n: number): number {
  const end = o + digitCount(n);
  let p = end;
  do {
    const q = (n / 10) | 0;
    buf[--p] = ZERO + (n - q * 10);
    n = q;
  } while (n > 0);
  return end;
}
