/**
 * Ledger lines to columns without a general extended-JSON parser. A line is one JSON object; only
 * the fields the ledger reads are decoded, the others are skipped by their JSON structure. The
 * values of read fields are plain JSON or one of the extended-JSON number and date wrappers that
 * `mongoexport` writes (`$date`, `$numberDecimal`, `$numberLong`, `$numberInt`, `$numberDouble`;
 * `$oid` for the id); any other `$` wrapper in a read field is a RECON_LEDGER_READ error naming
 * the line and the field.
 *
 * The common forms (strings without escapes, plain decimals of up to 15 significant digits, simple
 * `$numberDecimal` text, `$date` as `yyyy-mm-ddThh:mm:ss[.fff]Z`) convert here, units straight to
 * ten-thousandths; every other form goes to bson's EJSON parser for that one value, so the result
 * is always the one the extended-JSON reader gives.
 */
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { BSON } from 'mongodb';
import { ReconError } from '../errors.js';
import { parseUnitsText, SCALE } from '../fixed-point.js';
import { unitsFromValue } from './mongodb.js';
import type { LedgerFields } from './types.js';

/** A key or type value as the position builder takes it: text, a number, or something else. */
export type LedgerScalar = string | number | boolean | null | undefined;

/** A batch of ledger lines as columns: one slot per line, reused from batch to batch. */
export class LedgerColumns {
  length = 0;
  readonly productCode: LedgerScalar[];
  readonly folio: LedgerScalar[];
  readonly type: LedgerScalar[];
  /** Ten-thousandths; NaN when the value is missing or not a number. */
  readonly units: Float64Array;
  /** Epoch milliseconds; NaN when the value is missing or not a date. */
  readonly dateMs: Float64Array;
  readonly schemeName: (string | null)[];
  /**
   * NAV in ten-thousandths; NaN when missing, not a number, or too large for exact arithmetic (a
   * NAV only values a break, so an unreadable one is no NAV, never an error).
   */
  readonly nav: Float64Array;
  /** The transaction's `_id` as text, or null when it has none. */
  readonly id: (string | null)[];
  readonly lineNo: Float64Array;

  constructor(readonly capacity: number) {
    this.productCode = new Array<LedgerScalar>(capacity);
    this.folio = new Array<LedgerScalar>(capacity);
    this.type = new Array<LedgerScalar>(capacity);
    this.units = new Float64Array(capacity);
    this.dateMs = new Float64Array(capacity);
    this.schemeName = new Array<string | null>(capacity);
    this.nav = new Float64Array(capacity);
    this.id = new Array<string | null>(capacity);
    this.lineNo = new Float64Array(capacity);
  }
}

const enum Col {
  ProductCode,
  Folio,
  Type,
  Units,
  Date,
  SchemeName,
  Nav,
  Id,
}
const DECIMAL_WRAPPER = /\{\s*"\$numberDecimal"\s*:\s*"(-?\d+(?:\.\d+)?)"\s*\}/y;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const WRAPPERS = new Set(['$date', '$numberDecimal', '$numberLong', '$numberInt', '$numberDouble']);

/** Which column each field name feeds (with a hash of the name); built once per reader. */
export type FieldColumns = readonly { name: string; col: Col; hash: number }[];

export function fieldColumns(fields: LedgerFields): FieldColumns {
  const m = new Map<string, Col>([['_id', Col.Id]]);
  m.set(fields.nav, Col.Nav);
  m.set(fields.schemeName, Col.SchemeName);
  m.set(fields.date, Col.Date);
  m.set(fields.units, Col.Units);
  m.set(fields.type, Col.Type);
  m.set(fields.folio, Col.Folio);
  m.set(fields.productCode, Col.ProductCode);
  return [...m].map(([name, col]) => ({ name, col, hash: nameHash(name) }));
}

/** The hash fieldName computes while it scans a member name. */
function nameHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
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
  const p = (parser.current ??= new LineParser());
  p.reset(line, lineNo, source);
  const row = cols.length;
  cols.productCode[row] = undefined;
  cols.folio[row] = undefined;
  cols.type[row] = undefined;
  cols.units[row] = NaN;
  cols.dateMs[row] = NaN;
  cols.schemeName[row] = null;
  cols.nav[row] = NaN;
  cols.id[row] = null;
  cols.lineNo[row] = lineNo;
  p.ws();
  p.expect(0x7b /* { */);
  p.ws();
  if (p.peek() === 0x7d /* } */) p.i++;
  else {
    for (;;) {
      const field = p.fieldName(columns);
      p.ws();
      p.expect(0x3a /* : */);
      p.ws();
      if (field === null) p.skipValue();
      else p.readInto(field.col, field.name, cols, row);
      p.ws();
      const c = p.peek();
      p.i++;
      if (c === 0x7d) break;
      if (c !== 0x2c /* , */) p.fail(`expected , or } at column ${p.i}`);
      p.ws();
    }
  }
  p.ws();
  if (p.i !== line.length) p.fail(`unexpected text after the object at column ${p.i + 1}`);
  cols.length = row + 1;
}

/**
 * Reads an ndjson ledger as batches of columns. The same LedgerColumns comes back each time:
 * consume a batch before asking for the next. Blank lines are skipped; line numbers count them.
 */
export async function* readLedgerColumns(
  path: string,
  fields: LedgerFields,
  batchSize = 8192,
): AsyncGenerator<LedgerColumns> {
  const columns = fieldColumns(fields);
  const cols = new LedgerColumns(batchSize);
  const source = basename(path);
  let rest = '';
  let lineNo = 0;
  const take = (text: string, start: number, end: number) => {
    lineNo++;
    if (end > start && text.charCodeAt(end - 1) === 0x0d) end--;
    let i = start;
    while (i < end && isBlank(text.charCodeAt(i))) i++;
    if (i < end) parseLedgerLine(text.slice(start, end), lineNo, columns, cols, source);
  };
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const text = rest + (chunk as string);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      take(text, start, nl);
      start = nl + 1;
      if (cols.length === cols.capacity) {
        yield cols;
        cols.length = 0;
      }
    }
    rest = text.slice(start);
  }
  if (rest.length > 0) take(rest, 0, rest.length);
  if (cols.length > 0) yield cols;
}

function isBlank(c: number): boolean {
  return (
    c === 0x20 ||
    c === 0x09 ||
    c === 0x0d ||
    c === 0x0a ||
    c === 0x0b ||
    c === 0x0c ||
    c === 0xa0 ||
    c === 0xfeff
  );
}

class LineParser {
  i = 0;
  private s = '';
  private lineNo = 0;
  private source = '';

  reset(s: string, lineNo: number, source: string): void {
    this.s = s;
    this.lineNo = lineNo;
    this.source = source;
    this.i = 0;
  }

  /** The member name at i and the column it feeds, matched in place (no string made for it). */
  fieldName(columns: FieldColumns): FieldColumns[number] | null {
    const s = this.s;
    if (s.charCodeAt(this.i) === 0x22) {
      const start = this.i + 1;
      let end = start;
      let h = 0;
      for (
        let c = s.charCodeAt(end);
        c !== 0x22 && c !== 0x5c && c >= 0x20;
        c = s.charCodeAt(++end)
      )
        h = (Math.imul(h, 31) + c) | 0;
      if (s.charCodeAt(end) === 0x22) {
        this.i = end + 1;
        for (const c of columns)
          if (c.hash === h && c.name.length === end - start && s.startsWith(c.name, start))
            return c;
        return null;
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
    return this.i < this.s.length ? this.s.charCodeAt(this.i) : -1;
  }

  ws(): void {
    const s = this.s;
    let c = s.charCodeAt(this.i);
    while (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) c = s.charCodeAt(++this.i);
  }

  expect(c: number): void {
    if (this.peek() !== c) this.fail(`expected ${String.fromCharCode(c)} at column ${this.i + 1}`);
    this.i++;
  }

  /** A JSON string at i; returns its value. */
  string(): string {
    if (this.peek() !== 0x22) this.fail(`expected a string at column ${this.i + 1}`);
    const start = this.i;
    const s = this.s;
    let j = start + 1;
    let escaped = false;
    for (;;) {
      if (j >= s.length) this.fail('unterminated string');
      const c = s.charCodeAt(j);
      if (c === 0x22) break;
      if (c === 0x5c) {
        escaped = true;
        j += 2;
        continue;
      }
      if (c < 0x20) this.fail(`control character in a string at column ${j + 1}`);
      j++;
    }
    this.i = j + 1;
    if (!escaped) return s.slice(start + 1, j);
    try {
      return JSON.parse(s.slice(start, j + 1)) as string;
    } catch (err) {
      return this.fail((err as Error).message, err);
    }
  }

  /** End of a JSON number at i (validated by grammar). */
  numberEnd(): number {
    const s = this.s;
    let j = this.i;
    if (s.charCodeAt(j) === 0x2d) j++;
    const intStart = j;
    while (isDigit(s.charCodeAt(j))) j++;
    if (j === intStart || (s.charCodeAt(intStart) === 0x30 && j - intStart > 1))
      this.fail(`bad number at column ${this.i + 1}`);
    if (s.charCodeAt(j) === 0x2e) {
      const f = ++j;
      while (isDigit(s.charCodeAt(j))) j++;
      if (j === f) this.fail(`bad number at column ${this.i + 1}`);
    }
    if ((s.charCodeAt(j) | 0x20) === 0x65 /* e */) {
      j++;
      if (s.charCodeAt(j) === 0x2b || s.charCodeAt(j) === 0x2d) j++;
      const e = j;
      while (isDigit(s.charCodeAt(j))) j++;
      if (j === e) this.fail(`bad number at column ${this.i + 1}`);
    }
    return j;
  }

  /** Skips any JSON value, checking only that brackets and strings close. */
  skipValue(): void {
    const c = this.peek();
    if (c === 0x22) {
      this.string();
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
          this.string();
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
          this.fail(`expected , or ${String.fromCharCode(close)} at column ${this.i}`);
        this.ws();
      }
    }
    if (c === 0x2d || isDigit(c)) {
      this.i = this.numberEnd();
      return;
    }
    for (const word of ['true', 'false', 'null']) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return;
      }
    }
    this.fail(`unexpected character at column ${this.i + 1}`);
  }

  readInto(col: Col, field: string, cols: LedgerColumns, row: number): void {
    const s = this.s;
    const c = this.peek();
    const start = this.i;
    if (c === 0x22) {
      const text = this.string();
      switch (col) {
        case Col.Units:
          cols.units[row] = orNaN(parseUnitsText(text));
          break;
        case Col.Nav:
          cols.nav[row] = navUnits(text);
          break;
        case Col.SchemeName:
          cols.schemeName[row] = text;
          break;
        case Col.Id:
          cols.id[row] = text;
          break;
        case Col.Date:
          break; // a date as plain text is no date
        default:
          (col === Col.ProductCode ? cols.productCode : col === Col.Folio ? cols.folio : cols.type)[
            row
          ] = text;
      }
      return;
    }
    if (c === 0x2d || isDigit(c)) {
      const end = this.numberEnd();
      this.i = end;
      if (col === Col.Units) {
        cols.units[row] = orNaN(
          plainUnits(s, start, end) ?? unitsFromValue(Number(s.slice(start, end))),
        );
      } else if (col === Col.Nav) {
        const plain = plainUnits(s, start, end);
        cols.nav[row] = plain ?? navUnits(Number(s.slice(start, end)));
      } else this.store(col, Number(s.slice(start, end)), cols, row);
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
      this.store(col, this.ejson(s.slice(start, this.i)), cols, row);
      return;
    }
    this.skipValue();
    this.store(col, this.ejson(s.slice(start, this.i)), cols, row);
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
        cols.schemeName[row] = typeof v === 'string' ? v : null;
        break;
      case Col.Id:
        cols.id[row] = v === null || v === undefined ? null : String(v);
        break;
      case Col.Type:
        cols.type[row] = scalar(v);
        break;
      // A key part is text or a number; anything else is no key.
      default:
        (col === Col.ProductCode ? cols.productCode : cols.folio)[row] =
          typeof v === 'string' || typeof v === 'number' ? v : null;
    }
  }

  private ejson(text: string): unknown {
    try {
      return (BSON.EJSON.parse(`{"v":${text}}`, { relaxed: true }) as { v: unknown }).v;
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

  /**
   * `{"$numberDecimal":"-123.4567"}` (plain digits, at most 15 significant) → ten-thousandths, else
   * NaN.
   */
  private fastDecimal(): number {
    const m = DECIMAL_WRAPPER;
    m.lastIndex = this.i;
    const r = m.exec(this.s);
    if (r === null) return NaN;
    const units = plainUnits(r[1], 0, r[1].length);
    if (units === null) return NaN;
    this.i = m.lastIndex;
    return units;
  }

  /** `{"$date":"2024-12-20T09:12:00.000Z"}` (no spaces) → epoch ms, else NaN. */
  private fastDate(): number {
    const s = this.s;
    const i = this.i + 10;
    if (
      !s.startsWith('{"$date":"', this.i) ||
      s.charCodeAt(i + 4) !== 0x2d ||
      s.charCodeAt(i + 7) !== 0x2d ||
      s.charCodeAt(i + 10) !== 0x54 ||
      s.charCodeAt(i + 13) !== 0x3a ||
      s.charCodeAt(i + 16) !== 0x3a
    )
      return NaN;
    const y = digitsAt(s, i, 4);
    const mo = digitsAt(s, i + 5, 2);
    const d = digitsAt(s, i + 8, 2);
    const h = digitsAt(s, i + 11, 2);
    const mi = digitsAt(s, i + 14, 2);
    const sec = digitsAt(s, i + 17, 2);
    let j = i + 19;
    let ms = 0;
    if (s.charCodeAt(j) === 0x2e) {
      const n =
        s.charCodeAt(j + 4) === 0x5a
          ? 3
          : s.charCodeAt(j + 3) === 0x5a
            ? 2
            : s.charCodeAt(j + 2) === 0x5a
              ? 1
              : 0;
      ms = n === 0 ? -1 : digitsAt(s, j + 1, n) * (n === 3 ? 1 : n === 2 ? 10 : 100);
      j += 1 + n;
    }
    if (s.charCodeAt(j) !== 0x5a || s.charCodeAt(j + 1) !== 0x22 || s.charCodeAt(j + 2) !== 0x7d)
      return NaN;
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

/** n decimal digits at i as a number, or -1 when one is not a digit. */
function digitsAt(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = i; k < i + n; k++) {
    const c = s.charCodeAt(k);
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
function plainUnits(s: string, start: number, end: number): number | null {
  let i = start;
  const negative = s.charCodeAt(i) === 0x2d;
  if (negative) i++;
  let whole = 0;
  let significant = 0;
  let digits = 0;
  for (; i < end; i++) {
    const c = s.charCodeAt(i);
    if (!isDigit(c)) break;
    whole = whole * 10 + (c - 0x30);
    if (significant > 0 || c !== 0x30) significant++;
    digits++;
  }
  if (digits === 0) return null;
  let frac = 0;
  let fracDigits = 0;
  let roundUp = false;
  if (i < end && s.charCodeAt(i) === 0x2e) {
    for (i++; i < end; i++) {
      const c = s.charCodeAt(i);
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
