/**
 * Ledger lines to columns without a general extended-JSON parser. A line is one JSON object; only
 * the fields the ledger reads are decoded, the others are skipped by their JSON structure. The
 * values of read fields are plain JSON or one of the extended-JSON number and date wrappers that
 * `mongoexport` writes (`$date`, `$numberDecimal`, `$numberLong`, `$numberInt`, `$numberDouble`;
 * `$oid` for the id); any other `$` wrapper in a read field is a RECON_LEDGER_READ error naming
 * the line and the field.
 *
 * Lines are parsed as UTF-8 bytes where they lie in the read buffer: a newline byte never occurs
 * inside a multi-byte sequence, and only the values kept become strings. The common forms (strings
 * without escapes, plain decimals of up to 15 significant digits, simple `$numberDecimal` text,
 * `$date` as `yyyy-mm-ddThh:mm:ss[.fff]Z`) convert here, units straight to ten-thousandths; every
 * other form goes to bson's EJSON parser for that one value, so the result is always the one the
 * extended-JSON reader gives.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { EJSON } from 'bson';
import { ReconError } from '../errors.js';
import { parseUnitsText, SCALE } from '../fixed-point.js';
import { unitsFromValue } from './units-value.js';
import type { LedgerFields } from './types.js';

/** A key or type value as the position builder takes it: text, a number, or something else. */
export type LedgerScalar = string | number | boolean | null | undefined;

/**
 * A batch of ledger lines as columns: one slot per line, reused from batch to batch. Text values
 * stay spans of the read buffer (`buf`, valid while the batch is consumed) until asked for, so a
 * reader that needs a value only now and then (an id, a scheme name) makes no string for the rest.
 */
export class LedgerColumns {
  length = 0;
  /** The bytes this batch's spans point into. */
  buf: Buffer = Buffer.alloc(0);
  /** Ten-thousandths; NaN when the value is missing or not a number. */
  readonly units: Float64Array;
  /** Epoch milliseconds; NaN when the value is missing or not a date. */
  readonly dateMs: Float64Array;
  /**
   * NAV in ten-thousandths; NaN when missing, not a number, or too large for exact arithmetic (a
   * NAV only values a break, so an unreadable one is no NAV, never an error).
   */
  readonly nav: Float64Array;
  readonly lineNo: Float64Array;
  /** Per row and column (row * COLS + col): how the value is held, and its bytes when a span. */
  readonly held: Uint8Array;
  readonly from: Int32Array;
  readonly to: Int32Array;
  private readonly values: unknown[];

  constructor(readonly capacity: number) {
    this.units = new Float64Array(capacity);
    this.dateMs = new Float64Array(capacity);
    this.nav = new Float64Array(capacity);
    this.lineNo = new Float64Array(capacity);
    this.held = new Uint8Array(capacity * COLS);
    this.from = new Int32Array(capacity * COLS);
    this.to = new Int32Array(capacity * COLS);
    this.values = new Array<unknown>(capacity * COLS);
  }

  productCode(r: number): LedgerScalar {
    return this.value(r * COLS + Col.ProductCode) as LedgerScalar;
  }

  folio(r: number): LedgerScalar {
    return this.value(r * COLS + Col.Folio) as LedgerScalar;
  }

  type(r: number): LedgerScalar {
    return this.value(r * COLS + Col.Type) as LedgerScalar;
  }

  schemeName(r: number): string | null {
    return (this.value(r * COLS + Col.SchemeName) as string | undefined) ?? null;
  }

  /** The transaction's `_id` as text, or null when it has none. */
  id(r: number): string | null {
    return (this.value(r * COLS + Col.Id) as string | undefined) ?? null;
  }

  /** Empties the text columns of row r. */
  clear(r: number): void {
    const at = r * COLS;
    const held = this.held;
    const values = this.values;
    held[at + Col.ProductCode] = held[at + Col.Folio] = held[at + Col.Type] = Held.Value;
    held[at + Col.SchemeName] = held[at + Col.Id] = Held.Value;
    values[at + Col.ProductCode] = values[at + Col.Folio] = values[at + Col.Type] = undefined;
    values[at + Col.SchemeName] = values[at + Col.Id] = undefined;
  }

  set(r: number, col: Col, value: unknown): void {
    this.held[r * COLS + col] = Held.Value;
    this.values[r * COLS + col] = value;
  }

  span(r: number, col: Col, held: Held, from: number, to: number): void {
    const at = r * COLS + col;
    this.held[at] = held;
    this.from[at] = from;
    this.to[at] = to;
  }

  private value(at: number): unknown {
    switch (this.held[at] as Held) {
      case Held.Value:
        return this.values[at];
      case Held.Ascii:
        return this.buf.toString('latin1', this.from[at], this.to[at]);
      case Held.Utf8:
        return this.buf.toString('utf8', this.from[at], this.to[at]);
      case Held.Digits:
        return Number(this.buf.toString('latin1', this.from[at], this.to[at]));
    }
  }
}

/** How a text column's value is held: as a value, or as bytes of the buffer. */
export const enum Held {
  Value,
  /** A JSON string without escapes, all ASCII. */
  Ascii,
  /** A JSON string without escapes, with UTF-8 sequences. */
  Utf8,
  /** A JSON number of at most 15 digits, no sign, fraction or exponent (a whole number). */
  Digits,
}

export const enum Col {
  ProductCode,
  Folio,
  Type,
  Units,
  Date,
  SchemeName,
  Nav,
  Id,
}
/** Slots per row in LedgerColumns' per-column arrays (one per Col). */
export const COLS = 8;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const WRAPPERS = new Set(['$date', '$numberDecimal', '$numberLong', '$numberInt', '$numberDouble']);
const DATE_OPEN = Buffer.from('{"$date":"');
const DECIMAL_NAME = Buffer.from('"$numberDecimal"');
const WORDS = ['true', 'false', 'null'].map((w) => Buffer.from(w));

/** Which column each field name feeds (its UTF-8 bytes and their hash); built once per reader. */
export type FieldColumns = readonly { name: string; bytes: Buffer; col: Col; hash: number }[];

export function fieldColumns(fields: LedgerFields): FieldColumns {
  const m = new Map<string, Col>([['_id', Col.Id]]);
  m.set(fields.nav, Col.Nav);
  m.set(fields.schemeName, Col.SchemeName);
  m.set(fields.date, Col.Date);
  m.set(fields.units, Col.Units);
  m.set(fields.type, Col.Type);
  m.set(fields.folio, Col.Folio);
  m.set(fields.productCode, Col.ProductCode);
  return [...m].map(([name, col]) => {
    const bytes = Buffer.from(name);
    return { name, bytes, col, hash: nameHash(bytes, 0, bytes.length) };
  });
}

/** The hash fieldName computes while it scans a member name. */
function nameHash(b: Uint8Array, start: number, end: number): number {
  let h = 0;
  for (let i = start; i < end; i++) h = (Math.imul(h, 31) + b[i]) | 0;
  return h;
}

const parser = { current: null as LineParser | null };

/**
 * Parses one non-blank line into the next slot of `cols` (the caller makes sure there is one).
 * `source` names the file in errors.
 */
export function parseLedgerLine(
  line: string,
  lineNo: number,
  columns: FieldColumns,
  cols: LedgerColumns,
  source: string,
): void {
  const bytes = Buffer.from(line);
  parseLedgerBytes(bytes, 0, bytes.length, lineNo, columns, cols, source);
}

/** parseLedgerLine for the line at bytes [start, end) of `buf`. */
export function parseLedgerBytes(
  buf: Buffer,
  start: number,
  end: number,
  lineNo: number,
  columns: FieldColumns,
  cols: LedgerColumns,
  source: string,
): void {
  const p = (parser.current ??= new LineParser());
  p.use(columns);
  p.reset(buf, start, end, lineNo, source);
  const row = cols.length;
  cols.buf = buf;
  cols.clear(row);
  cols.units[row] = NaN;
  cols.dateMs[row] = NaN;
  cols.nav[row] = NaN;
  cols.lineNo[row] = lineNo;
  p.ws();
  p.expect(0x7b /* { */);
  p.ws();
  if (p.peek() === 0x7d /* } */) p.i++;
  else {
    for (let k = 0; ; k++) {
      const field = p.fieldName(columns, k);
      p.ws();
      p.expect(0x3a /* : */);
      p.ws();
      if (field === null) p.skipValue();
      else p.readInto(field.col, field.name, cols, row);
      p.ws();
      const c = p.peek();
      p.i++;
      if (c === 0x7d) break;
      if (c !== 0x2c /* , */) p.fail(`expected , or } at column ${p.column() - 1}`);
      p.ws();
    }
  }
  p.ws();
  if (p.i !== end) p.fail(`unexpected text after the object at column ${p.column()}`);
  cols.length = row + 1;
}

const UTF8_BOM = [0xef, 0xbb, 0xbf];

/**
 * 3 when the file starts with a UTF-8 byte-order mark, else 0. Windows tools write one; it is not
 * part of the first line (mongoimport skips it too).
 */
function byteOrderMarkLength(fd: number): number {
  const head = Buffer.alloc(UTF8_BOM.length);
  const n = readSync(fd, head, 0, head.length, 0);
  return n === head.length && UTF8_BOM.every((b, i) => head[i] === b) ? n : 0;
}

/**
 * Bytes [start, end) of a file as batches of columns, its lines numbered from 1 (blank lines are
 * skipped, and counted). The same LedgerColumns comes back each time: consume a batch before
 * asking for the next (its text spans point into a buffer the next read overwrites). `lines()`
 * then tells how many lines there were.
 */
export class LedgerLineReader {
  private lineNo = 0;

  constructor(
    private readonly path: string,
    private readonly fields: LedgerFields,
    private readonly batchSize = 8192,
    /** Bytes read at a time (the buffer grows for a longer line). */
    private readonly readBytes = 4 << 20,
    /** An open descriptor of the file to read instead of opening `path` (left open). */
    private readonly fd?: number,
  ) {}

  lines(): number {
    return this.lineNo;
  }

  *batches(start = 0, end = Infinity): Generator<LedgerColumns> {
    const columns = fieldColumns(this.fields);
    const cols = new LedgerColumns(this.batchSize);
    const source = basename(this.path);
    const fd = this.fd ?? openSync(this.path, 'r');
    try {
      let buf = Buffer.allocUnsafe(this.readBytes);
      let filled = 0; // bytes in buf; those before `from` are parsed
      let at = start === 0 ? byteOrderMarkLength(fd) : start;
      let eof = false;
      while (!eof || filled > 0) {
        if (!eof) {
          const n = readSync(fd, buf, filled, Math.min(buf.length - filled, end - at), at);
          at += n;
          filled += n;
          eof = n === 0 || at >= end;
        }
        let from = 0;
        for (;;) {
          let nl = buf.indexOf(0x0a, from);
          if (nl < 0 || nl >= filled) {
            if (!eof || from === filled) break;
            nl = filled; // the last line, without a newline
          }
          this.lineNo++;
          let e = nl;
          if (e > from && buf[e - 1] === 0x0d) e--;
          if (!blank(buf, from, e))
            parseLedgerBytes(buf, from, e, this.lineNo, columns, cols, source);
          from = Math.min(nl + 1, filled);
          if (cols.length === cols.capacity) {
            yield cols;
            cols.length = 0;
          }
        }
        // The batch's spans point into buf: it is consumed before buf moves.
        if (cols.length > 0) {
          yield cols;
          cols.length = 0;
        }
        if (from === 0 && filled === buf.length) {
          // One line longer than the buffer: grow it.
          const bigger = Buffer.allocUnsafe(buf.length * 2);
          buf.copy(bigger, 0, 0, filled);
          buf = bigger;
          continue;
        }
        buf.copy(buf, 0, from, filled);
        filled -= from;
      }
      if (cols.length > 0) yield cols;
    } finally {
      if (this.fd === undefined) closeSync(fd);
    }
  }
}

/**
 * Reads an ndjson ledger as batches of columns (see LedgerLineReader). Blank lines are skipped;
 * line numbers count them.
 */
export async function* readLedgerColumns(
  path: string,
  fields: LedgerFields,
  batchSize = 8192,
  /** An open descriptor of the file (left open), instead of opening `path`. */
  fd?: number,
): AsyncGenerator<LedgerColumns> {
  const reader = new LedgerLineReader(path, fields, batchSize, undefined, fd);
  for (const cols of reader.batches()) yield cols;
}

/** A line of nothing but white space (JSON's, and the no-break space and BOM editors leave). */
function blank(b: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = b[i];
    if (c === 0x20 || c === 0x09 || c === 0x0b || c === 0x0c || c === 0x0d) continue;
    if (c < 0x80) return false;
    // Other white space is multi-byte: decide on the decoded text.
    return /^[ \t\r\n\v\f\u00a0\ufeff]*$/.test(
      Buffer.from(b.buffer, b.byteOffset + i, end - i).toString(),
    );
  }
  return true;
}

class LineParser {
  i = 0;
  private b: Buffer = Buffer.alloc(0);
  private start = 0;
  private end = 0;
  private lineNo = 0;
  private source = '';
  private columns: FieldColumns | null = null;
  /** Per place in the line, the member name met there last and the column it feeds. */
  private seen: { bytes: Buffer; column: FieldColumns[number] | null }[] = [];

  /** Forgets the names seen when another reader's columns come in. */
  use(columns: FieldColumns): void {
    if (this.columns !== columns) this.seen = [];
    this.columns = columns;
  }

  reset(b: Buffer, start: number, end: number, lineNo: number, source: string): void {
    this.b = b;
    this.start = start;
    this.end = end;
    this.i = start;
    this.lineNo = lineNo;
    this.source = source;
  }

  /** The byte at j, or -1 past the line's end. */
  private at(j: number): number {
    return j < this.end ? this.b[j] : -1;
  }

  /** The 1-based column of the byte at i. */
  column(): number {
    return this.i - this.start + 1;
  }

  /** The member name at i and the column it feeds, matched in place (no string made for it). */
  fieldName(columns: FieldColumns, k: number): FieldColumns[number] | null {
    const b = this.b;
    if (this.at(this.i) === 0x22) {
      const start = this.i + 1;
      // Lines of one ledger name their fields in one order: try the name seen at this place last.
      const seen = this.seen[k];
      if (
        seen !== undefined &&
        start + seen.bytes.length < this.end &&
        b[start + seen.bytes.length] === 0x22 &&
        sameBytes(b, start, seen.bytes)
      ) {
        this.i = start + seen.bytes.length + 1;
        return seen.column;
      }
      let end = start;
      let h = 0;
      for (let c = this.at(end); c !== 0x22 && c !== 0x5c && c >= 0x20; c = this.at(++end))
        h = (Math.imul(h, 31) + c) | 0;
      if (this.at(end) === 0x22) {
        this.i = end + 1;
        const n = end - start;
        let column: FieldColumns[number] | null = null;
        for (const c of columns)
          if (c.hash === h && c.bytes.length === n && sameBytes(b, start, c.bytes)) column = c;
        // A copy: the read buffer is overwritten by the next read.
        this.seen[k] = { bytes: Buffer.from(b.subarray(start, end)), column };
        return column;
      }
    }
    const name = this.string();
    for (const c of columns) if (c.name === name) return c;
    return null;
  }

  fail(what: string, cause?: unknown): never {
    throw new ReconError(
      'RECON_LEDGER_READ',
      `${this.source}: line ${this.lineNo} is not extended JSON: ${what}`,
      { file: this.source, record: this.lineNo },
      cause === undefined ? undefined : { cause },
    );
  }

  peek(): number {
    return this.at(this.i);
  }

  ws(): void {
    let c = this.at(this.i);
    while (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) c = this.at(++this.i);
  }

  expect(c: number): void {
    if (this.peek() !== c)
      this.fail(`expected ${String.fromCharCode(c)} at column ${this.column()}`);
    this.i++;
  }

  /** The text of bytes [start, end). */
  private text(start: number, end: number): string {
    return this.b.toString('utf8', start, end);
  }

  /** A JSON string at i; returns its value. */
  string(): string {
    if (this.peek() !== 0x22) this.fail(`expected a string at column ${this.column()}`);
    const start = this.i;
    const b = this.b;
    const end = this.end;
    let j = start + 1;
    let escaped = false;
    let ascii = true;
    for (;;) {
      if (j >= end) this.fail('unterminated string');
      const c = b[j];
      if (c === 0x22) break;
      if (c === 0x5c) {
        escaped = true;
        j += 2;
        continue;
      }
      if (c < 0x20) this.fail(`control character in a string at column ${j - this.start + 1}`);
      if (c >= 0x80) ascii = false;
      j++;
    }
    this.i = j + 1;
    if (!escaped) return b.toString(ascii ? 'latin1' : 'utf8', start + 1, j);
    try {
      return JSON.parse(this.text(start, j + 1)) as string;
    } catch (err) {
      return this.fail((err as Error).message, err);
    }
  }

  /** End of a JSON number at i (validated by grammar). */
  numberEnd(): number {
    let j = this.i;
    if (this.at(j) === 0x2d) j++;
    const intStart = j;
    while (isDigit(this.at(j))) j++;
    if (j === intStart || (this.at(intStart) === 0x30 && j - intStart > 1))
      this.fail(`bad number at column ${this.column()}`);
    if (this.at(j) === 0x2e) {
      const f = ++j;
      while (isDigit(this.at(j))) j++;
      if (j === f) this.fail(`bad number at column ${this.column()}`);
    }
    if ((this.at(j) | 0x20) === 0x65 /* e */) {
      j++;
      if (this.at(j) === 0x2b || this.at(j) === 0x2d) j++;
      const e = j;
      while (isDigit(this.at(j))) j++;
      if (j === e) this.fail(`bad number at column ${this.column()}`);
    }
    return j;
  }

  /** Skips any JSON value, checking only that brackets and strings close. */
  skipValue(): void {
    const c = this.peek();
    if (c === 0x22) {
      this.skipString();
      return;
    }
    if (c === 0x7b || c === 0x5b) {
      const close = c === 0x7b ? 0x7d : 0x5d;
      this.i++;
      this.ws();
      if (this.peek() === close) {
        this.i++;
        return;
      }
      for (;;) {
        if (close === 0x7d) {
          this.skipString();
          this.ws();
          this.expect(0x3a);
          this.ws();
        }
        this.skipValue();
        this.ws();
        const d = this.peek();
        this.i++;
        if (d === close) return;
        if (d !== 0x2c)
          this.fail(`expected , or ${String.fromCharCode(close)} at column ${this.column() - 1}`);
        this.ws();
      }
    }
    if (c === 0x2d || isDigit(c)) {
      this.i = this.numberEnd();
      return;
    }
    for (const word of WORDS) {
      if (this.i + word.length <= this.end && sameBytes(this.b, this.i, word)) {
        this.i += word.length;
        return;
      }
    }
    this.fail(`unexpected character at column ${this.column()}`);
  }

  /**
   * A string at i without escapes: moves past it and says whether its bytes are all ASCII; with
   * escapes: stays and answers Held.Value (string() reads it).
   */
  private stringSpan(): Held {
    const b = this.b;
    const end = this.end;
    let ascii = true;
    for (let j = this.i + 1; j < end; j++) {
      const c = b[j];
      if (c === 0x22) {
        this.i = j + 1;
        return ascii ? Held.Ascii : Held.Utf8;
      }
      if (c === 0x5c || c < 0x20) return Held.Value;
      if (c >= 0x80) ascii = false;
    }
    return Held.Value;
  }

  /** A string skipped: its escapes are checked only when it has some (they are rare). */
  private skipString(): void {
    let j = this.i + 1;
    for (;;) {
      const c = this.at(j);
      if (c === 0x22) break;
      if (c === 0x5c || c < 0x20) {
        this.string();
        return;
      }
      j++;
    }
    this.i = j + 1;
  }

  readInto(col: Col, field: string, cols: LedgerColumns, row: number): void {
    const c = this.peek();
    const start = this.i;
    if (c === 0x22) {
      if (col === Col.Date) {
        this.skipString(); // a date as plain text is no date
        return;
      }
      if (col !== Col.Units && col !== Col.Nav) {
        const held = this.stringSpan();
        if (held !== Held.Value) cols.span(row, col, held, start + 1, this.i - 1);
        else cols.set(row, col, this.string());
        return;
      }
      const text = this.string();
      if (col === Col.Units) cols.units[row] = orNaN(parseUnitsText(text));
      else cols.nav[row] = navUnits(text);
      return;
    }
    if (c === 0x2d || isDigit(c)) {
      const end = this.numberEnd();
      this.i = end;
      if (col === Col.Units || col === Col.Nav) {
        const plain = plainUnits(this.b, start, end);
        if (col === Col.Units)
          cols.units[row] = orNaN(plain ?? unitsFromValue(Number(this.text(start, end))));
        else cols.nav[row] = plain ?? navUnits(Number(this.text(start, end)));
      } else if (
        (col === Col.ProductCode || col === Col.Folio) &&
        c !== 0x2d &&
        end - start <= 15 &&
        allDigits(this.b, start, end)
      )
        cols.span(row, col, Held.Digits, start, end);
      else this.store(col, Number(this.text(start, end)), cols, row);
      return;
    }
    if (c === 0x7b) {
      // {"$numberDecimal":"…"} and {"$date":"…Z"} in their usual form convert here.
      const fast =
        col === Col.Units || col === Col.Nav
          ? this.fastDecimal()
          : col === Col.Date
            ? this.fastDate()
            : NaN;
      if (!Number.isNaN(fast)) {
        if (col === Col.Units) cols.units[row] = fast;
        else if (col === Col.Nav) cols.nav[row] = fast;
        else cols.dateMs[row] = fast;
        return;
      }
      this.i = start;
      this.checkWrapper(field, col);
      this.i = start;
      this.skipValue();
      this.store(col, this.ejson(this.text(start, this.i)), cols, row);
      return;
    }
    this.skipValue();
    this.store(col, this.ejson(this.text(start, this.i)), cols, row);
  }

  /** A value from the extended-JSON parser (rare forms), into its column as the old reader did. */
  private store(col: Col, value: unknown, cols: LedgerColumns, row: number): void {
    const v = numberish(value);
    switch (col) {
      case Col.Units:
        cols.units[row] = orNaN(unitsFromValue(v));
        break;
      case Col.Nav:
        cols.nav[row] = navUnits(v);
        break;
      case Col.Date:
        cols.dateMs[row] = v instanceof Date ? v.getTime() : NaN;
        break;
      case Col.SchemeName:
        cols.set(row, col, typeof v === 'string' ? v : null);
        break;
      case Col.Id:
        cols.set(row, col, v === null || v === undefined ? null : String(v));
        break;
      case Col.Type:
        cols.set(row, col, scalar(v));
        break;
      // A key part is text or a number; anything else is no key.
      default:
        cols.set(row, col, typeof v === 'string' || typeof v === 'number' ? v : null);
    }
  }

  private ejson(text: string): unknown {
    try {
      return (EJSON.parse(`{"v":${text}}`, { relaxed: true }) as { v: unknown }).v;
    } catch (err) {
      return this.fail((err as Error).message, err);
    }
  }

  /**
   * An object in a read field must be one of the wrappers the ledger writes (or a plain document).
   */
  private checkWrapper(field: string, col: Col): void {
    this.expect(0x7b);
    this.ws();
    if (this.peek() !== 0x22) return;
    const name = this.string();
    if (name.startsWith('$') && !WRAPPERS.has(name) && !(name === '$oid' && col === Col.Id)) {
      this.fail(`unsupported extended JSON type ${name} in field ${field}`);
    }
  }

  /** Skips JSON white space from j; returns where it ends. */
  private wsFrom(j: number): number {
    let c = this.at(j);
    while (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) c = this.at(++j);
    return j;
  }

  /**
   * `{"$numberDecimal":"-123.4567"}` (plain digits, at most 15 significant) → ten-thousandths, else
   * NaN.
   */
  private fastDecimal(): number {
    const b = this.b;
    let j = this.wsFrom(this.i + 1);
    if (j + DECIMAL_NAME.length > this.end || !sameBytes(b, j, DECIMAL_NAME)) return NaN;
    j = this.wsFrom(j + DECIMAL_NAME.length);
    if (this.at(j) !== 0x3a) return NaN;
    j = this.wsFrom(j + 1);
    if (this.at(j) !== 0x22) return NaN;
    const from = j + 1;
    let to = from;
    while (to < this.end && b[to] !== 0x22) to++;
    if (to >= this.end) return NaN;
    const close = this.wsFrom(to + 1);
    if (this.at(close) !== 0x7d) return NaN;
    const units = plainUnits(b, from, to);
    if (units === null) return NaN;
    this.i = close + 1;
    return units;
  }

  /** `{"$date":"2024-12-20T09:12:00.000Z"}` (no spaces) → epoch ms, else NaN. */
  private fastDate(): number {
    const b = this.b;
    const i = this.i + DATE_OPEN.length;
    if (
      i + 20 > this.end ||
      !sameBytes(b, this.i, DATE_OPEN) ||
      b[i + 4] !== 0x2d ||
      b[i + 7] !== 0x2d ||
      b[i + 10] !== 0x54 ||
      b[i + 13] !== 0x3a ||
      b[i + 16] !== 0x3a
    )
      return NaN;
    const y = digitsAt(b, i, 4);
    const mo = digitsAt(b, i + 5, 2);
    const d = digitsAt(b, i + 8, 2);
    const h = digitsAt(b, i + 11, 2);
    const mi = digitsAt(b, i + 14, 2);
    const sec = digitsAt(b, i + 17, 2);
    let j = i + 19;
    let ms = 0;
    if (this.at(j) === 0x2e) {
      const n =
        this.at(j + 4) === 0x5a ? 3 : this.at(j + 3) === 0x5a ? 2 : this.at(j + 2) === 0x5a ? 1 : 0;
      ms = n === 0 ? -1 : digitsAt(b, j + 1, n) * (n === 3 ? 1 : n === 2 ? 10 : 100);
      j += 1 + n;
    }
    if (this.at(j) !== 0x5a || this.at(j + 1) !== 0x22 || this.at(j + 2) !== 0x7d) return NaN;
    const leap = mo === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 1 : 0;
    // Anything unusual (out-of-range fields, other forms) goes to bson, which decides what it
    // means.
    if (
      y < 0 ||
      mo < 1 ||
      mo > 12 ||
      d < 1 ||
      d > DAYS_IN_MONTH[mo - 1] + leap ||
      h < 0 ||
      h > 23 ||
      mi < 0 ||
      mi > 59 ||
      sec < 0 ||
      sec > 59 ||
      ms < 0
    )
      return NaN;
    this.i = j + 3;
    return Date.UTC(y, mo - 1, d, h, mi, sec, ms);
  }
}

/** True when `b` holds `word` at i (the caller checks that it fits). */
function sameBytes(b: Uint8Array, i: number, word: Uint8Array): boolean {
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word[k]) return false;
  return true;
}

function allDigits(b: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (b[i] < 0x30 || b[i] > 0x39) return false;
  return end > start;
}

/** n decimal digits at i as a number, or -1 when one is not a digit. */
function digitsAt(b: Uint8Array, i: number, n: number): number {
  let v = 0;
  for (let k = i; k < i + n; k++) {
    const c = b[k];
    if (c < 0x30 || c > 0x39) return -1;
    v = v * 10 + (c - 0x30);
  }
  return v;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** A NAV value in ten-thousandths; NaN for what cannot be one (see LedgerColumns.nav). */
function navUnits(value: unknown): number {
  try {
    return orNaN(unitsFromValue(value));
  } catch {
    return NaN; // too large for exact arithmetic: no NAV
  }
}

function orNaN(units: number | null): number {
  return units === null ? NaN : units;
}

/**
 * A plain decimal (`-?digits[.digits]`, no exponent) of at most 15 significant digits to
 * ten-thousandths, rounding half away from zero past the fourth decimal; null for any other text.
 * Up to 15 significant digits a double keeps the decimal exactly (its shortest text is the same
 * number), so this equals converting through the double, as the extended-JSON reader does.
 */
function plainUnits(b: Uint8Array, start: number, end: number): number | null {
  let i = start;
  const negative = b[i] === 0x2d;
  if (negative) i++;
  let whole = 0;
  let significant = 0;
  let digits = 0;
  for (; i < end; i++) {
    const c = b[i];
    if (!isDigit(c)) break;
    whole = whole * 10 + (c - 0x30);
    if (significant > 0 || c !== 0x30) significant++;
    digits++;
  }
  if (digits === 0) return null;
  let frac = 0;
  let fracDigits = 0;
  let roundUp = false;
  if (i < end && b[i] === 0x2e) {
    for (i++; i < end; i++) {
      const c = b[i];
      if (!isDigit(c)) return null;
      if (significant > 0 || c !== 0x30) significant++;
      if (fracDigits < 4) frac = frac * 10 + (c - 0x30);
      else if (fracDigits === 4) roundUp = c >= 0x35;
      fracDigits++;
    }
    if (fracDigits === 0) return null;
  }
  if (i !== end || significant > 15) return null;
  for (let k = fracDigits; k < 4; k++) frac *= 10;
  const magnitude = whole * SCALE + frac + (roundUp ? 1 : 0);
  if (!Number.isSafeInteger(magnitude)) return null;
  return negative && magnitude !== 0 ? -magnitude : magnitude;
}

function scalar(v: unknown): LedgerScalar {
  if (
    v === null ||
    v === undefined ||
    typeof v === 'string' ||
    typeof v === 'number' ||
    typeof v === 'boolean'
  )
    return v;
  return String(v);
}

/** Canonical EJSON wraps numbers ({"$numberInt": …}); relaxed values pass through. */
export function numberish(value: unknown): unknown {
  if (typeof value === 'object' && value !== null) {
    const bson = (value as { _bsontype?: string })._bsontype;
    if (bson === 'Int32' || bson === 'Double') return (value as { valueOf(): number }).valueOf();
    if (bson === 'Long') return Number((value as { toString(): string }).toString());
  }
  return value;
}
