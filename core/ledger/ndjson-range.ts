/**
 * One byte range of an ndjson ledger, read and summed on its own, so the pool's threads can share
 * a large file: a range starts after a newline and ends at one, its lines are numbered from 1, and
 * what it sums (per key and cut-off: net units, transactions, the latest NAV; the anomalies, the
 * transaction types, the first scheme name, the transactions after the earliest cut-off) is plain
 * data that the reader joins in file order (ndjson.ts), turning line numbers into the file's.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { ReconError } from '../errors.js';
import { addUnits } from '../fixed-point.js';
import { keyOf } from '../keys/text-key.js';
import {
  fieldColumns,
  LedgerColumns,
  parseLedgerLine,
  type LedgerScalar,
} from './ndjson-columns.js';
import { keyText } from './positions.js';
import type { LedgerFields } from './types.js';

export interface LedgerRangeTask {
  path: string;
  /** Byte offsets: `start` is 0 or just after a newline, `end` the size or just after one. */
  start: number;
  end: number;
  fields: LedgerFields;
  typeSigns: Readonly<Record<string, number>>;
  ignoreTypes: readonly string[];
  ignoreUnmappedTypes: boolean;
  /** Cut-offs as epoch milliseconds: a transaction counts for those it is strictly before. */
  cutoffsMs: readonly number[];
  /** Transactions dated on or after this are kept (movements), up to `laterLimit`. */
  laterFromMs: number;
  laterLimit: number;
}

/** One cut-off's sums over a range: per key (by the range's key index) and in total. */
export interface RangeCutoff {
  /** Net units per key, ten-thousandths. */
  units: Float64Array;
  /** Counted transactions per key (0: no position). */
  transactions: Float64Array;
  /** Keys in the order of their first counted transaction. */
  order: Int32Array;
  /** Latest NAV per key: its timestamp (NaN: none), value, `_id` (null: none) and line. */
  navAt: Float64Array;
  nav: Float64Array;
  navId: (string | null)[];
  navLine: Float64Array;
  /** Candidates with the same latest timestamp as the kept one, by key (ties: rare). */
  navTies: Record<number, { nav: number; id: string | null; line: number }[]>;
  counted: number;
  missingKey: number;
  nonNumericUnits: number;
  badDate: number;
  /** Lines of the first anomalies (at most 10), in order. */
  sampleLines: number[];
  ignoredTypes: Record<string, number>;
  unmappedTypes: Record<string, number>;
}

export interface LedgerRange {
  /** Lines in the range, blank ones included. */
  lines: number;
  productCode: string[];
  folio: string[];
  /** The first scheme name a key's transactions carry in this range. */
  scheme: (string | null)[];
  cutoffs: RangeCutoff[];
  /** Transactions on or after laterFromMs, as columns; null when there were more than the limit. */
  later: {
    productCode: LedgerScalar[];
    folio: LedgerScalar[];
    type: LedgerScalar[];
    units: (number | null)[];
    id: (string | null)[];
    line: number[];
    dateMs: number[];
  } | null;
  /** A line that is not extended JSON: its number in the range and the error's message. */
  failure: { line: number; message: string } | null;
}

const SAMPLES = 10;
const CHUNK = 4 << 20;
/** Type markers beside the signs, which config allows only as 1 or -1. */
const IGNORED = 2;
const UNMAPPED = 3;

/** Reads and sums one range (see LedgerRangeTask). Synchronous: it runs on a pool thread. */
export function readLedgerRange(task: LedgerRangeTask): LedgerRange {
  const sum = new RangeSums(task);
  const source = basename(task.path);
  const columns = fieldColumns(task.fields);
  const cols = new LedgerColumns(4096);
  const fd = openSync(task.path, 'r');
  let lineNo = 0;
  try {
    const end = Math.min(task.end, fstatSync(fd).size);
    let buf = Buffer.allocUnsafe(CHUNK);
    let kept = 0; // bytes of an unfinished line carried to the next read
    let at = task.start;
    while (at < end || kept > 0) {
      const want = Math.min(buf.length - kept, end - at);
      const n = want > 0 ? readSync(fd, buf, kept, want, at) : 0;
      at += n;
      const filled = kept + n;
      const last = at >= end || n === 0;
      // A newline byte never occurs inside a UTF-8 sequence: whole lines decode on their own.
      const cut = last ? filled : buf.lastIndexOf(0x0a, filled - 1) + 1;
      if (cut === 0) {
        // One line longer than the buffer: grow it.
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
        kept = filled;
        continue;
      }
      const text = buf.toString('utf8', 0, cut);
      let start = 0;
      while (start < text.length) {
        let nl = text.indexOf('\n', start);
        if (nl < 0) nl = text.length;
        lineNo++;
        let e = nl;
        if (e > start && text.charCodeAt(e - 1) === 0x0d) e--;
        if (!blank(text, start, e)) {
          parseLedgerLine(text.slice(start, e), lineNo, columns, cols, source);
          if (cols.length === cols.capacity) {
            sum.add(cols);
            cols.length = 0;
          }
        }
        start = nl + 1;
      }
      buf.copy(buf, 0, cut, filled);
      kept = filled - cut;
      if (last) break;
    }
    if (cols.length > 0) sum.add(cols);
  } catch (err) {
    const e = err as ReconError;
    if (e instanceof ReconError && e.code === 'RECON_LEDGER_READ' && e.context.record === lineNo)
      return { ...sum.result(lineNo), failure: { line: lineNo, message: e.message } };
    throw err;
  } finally {
    closeSync(fd);
  }
  return sum.result(lineNo);
}

function blank(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (
      c !== 0x20 &&
      c !== 0x09 &&
      c !== 0x0b &&
      c !== 0x0c &&
      c !== 0x0d &&
      c !== 0xa0 &&
      c !== 0xfeff
    )
      return false;
  }
  return true;
}

/** Grows a Float64Array to hold index `i`. */
function room(a: Float64Array<ArrayBuffer>, i: number, fill: number): Float64Array<ArrayBuffer> {
  if (i < a.length) return a;
  const b = new Float64Array(Math.max(1024, a.length * 2));
  b.set(a);
  b.fill(fill, a.length);
  return b;
}

class CutoffSums {
  units = new Float64Array(0);
  transactions = new Float64Array(0);
  order: number[] = [];
  navAt = new Float64Array(0);
  nav = new Float64Array(0);
  navId: (string | null)[] = [];
  navLine = new Float64Array(0);
  navTies: Record<number, { nav: number; id: string | null; line: number }[]> = {};
  counted = 0;
  missingKey = 0;
  nonNumericUnits = 0;
  badDate = 0;
  sampleLines: number[] = [];
  ignoredTypes: Record<string, number> = {};
  unmappedTypes: Record<string, number> = {};

  sample(line: number): void {
    if (this.sampleLines.length < SAMPLES) this.sampleLines.push(line);
  }

  count(k: number, signed: number): void {
    this.units = room(this.units, k, 0);
    this.transactions = room(this.transactions, k, 0);
    if (this.transactions[k] === 0) this.order.push(k);
    this.units[k] = addUnits(this.units[k], signed);
    this.transactions[k]++;
    this.counted++;
  }

  offerNav(k: number, at: number, nav: number, id: string | null, line: number): void {
    this.navAt = room(this.navAt, k, NaN);
    this.nav = room(this.nav, k, NaN);
    this.navLine = room(this.navLine, k, NaN);
    const best = this.navAt[k];
    if (!(at <= best)) {
      this.navAt[k] = at;
      this.nav[k] = nav;
      this.navId[k] = id;
      this.navLine[k] = line;
      delete this.navTies[k];
    } else if (at === best) (this.navTies[k] ??= []).push({ nav, id, line });
  }

  result(keys: number): RangeCutoff {
    const fit = (a: Float64Array, fill: number) => {
      const out = new Float64Array(keys).fill(fill);
      out.set(a.subarray(0, Math.min(keys, a.length)));
      return out;
    };
    const navId = new Array<string | null>(keys).fill(null);
    this.navId.forEach((id, k) => (navId[k] = id));
    return {
      units: fit(this.units, 0),
      transactions: fit(this.transactions, 0),
      order: Int32Array.from(this.order),
      navAt: fit(this.navAt, NaN),
      nav: fit(this.nav, NaN),
      navId,
      navLine: fit(this.navLine, NaN),
      navTies: this.navTies,
      counted: this.counted,
      missingKey: this.missingKey,
      nonNumericUnits: this.nonNumericUnits,
      badDate: this.badDate,
      sampleLines: this.sampleLines,
      ignoredTypes: this.ignoredTypes,
      unmappedTypes: this.unmappedTypes,
    };
  }
}

/**
 * The rules of PositionBuilder (positions.ts) applied to columns: a key is trimmed text or a whole
 * number, a type is signed by config or ignored or unmapped, units that are no number are counted.
 */
class RangeSums {
  private readonly keyIndex = new Map<string, number>();
  private readonly productCode: string[] = [];
  private readonly folio: string[] = [];
  private readonly scheme: (string | null)[] = [];
  private readonly cut: CutoffSums[];
  private readonly ends: readonly number[];
  private readonly signs = new Map<string, number>();
  private readonly ignore: Set<string>;
  /** Raw type value → sign, IGNORED or UNMAPPED, with its normalised name. */
  private readonly typeClass = new Map<LedgerScalar, { sign: number; name: string }>();
  private later: LedgerRange['later'] = {
    productCode: [],
    folio: [],
    type: [],
    units: [],
    id: [],
    line: [],
    dateMs: [],
  };

  constructor(private readonly task: LedgerRangeTask) {
    this.ends = task.cutoffsMs;
    this.cut = task.cutoffsMs.map(() => new CutoffSums());
    for (const [type, sign] of Object.entries(task.typeSigns))
      this.signs.set(type.trim().toUpperCase(), sign);
    this.ignore = new Set(task.ignoreTypes.map((t) => t.trim().toUpperCase()));
  }

  private classOf(type: LedgerScalar): { sign: number; name: string } {
    let c = this.typeClass.get(type);
    if (c === undefined) {
      const name = typeof type === 'string' ? type.trim().toUpperCase() : String(type);
      const sign = this.signs.get(name);
      c = {
        name,
        sign:
          sign !== undefined
            ? sign
            : this.ignore.has(name) || this.task.ignoreUnmappedTypes
              ? IGNORED
              : UNMAPPED,
      };
      this.typeClass.set(type, c);
    }
    return c;
  }

  private key(p: string, f: string, scheme: string | null): number {
    const text = keyOf(p, f);
    let k = this.keyIndex.get(text);
    if (k === undefined) {
      k = this.productCode.length;
      this.keyIndex.set(text, k);
      this.productCode.push(p);
      this.folio.push(f);
      this.scheme.push(null);
    }
    if (scheme !== null && this.scheme[k] === null) this.scheme[k] = scheme;
    return k;
  }

  add(cols: LedgerColumns): void {
    const ends = this.ends;
    const task = this.task;
    for (let r = 0; r < cols.length; r++) {
      const when = cols.dateMs[r];
      const line = cols.lineNo[r];
      const units = cols.units[r];
      const later = this.later;
      if (later !== null && when >= task.laterFromMs) {
        if (later.dateMs.length === task.laterLimit) this.later = null;
        else {
          later.productCode.push(cols.productCode[r]);
          later.folio.push(cols.folio[r]);
          later.type.push(cols.type[r]);
          later.units.push(Number.isNaN(units) ? null : units);
          later.id.push(cols.id[r]);
          later.line.push(line);
          later.dateMs.push(when);
        }
      }
      const p = keyText(cols.productCode[r]);
      const f = keyText(cols.folio[r]);
      const rawScheme = cols.schemeName[r];
      const scheme =
        rawScheme !== null && typeof cols.productCode[r] === 'string' ? rawScheme.trim() : null;
      const k = p === null || f === null ? -1 : this.key(p, f, scheme);
      const nav = cols.nav[r];
      for (let c = 0; c < ends.length; c++) {
        const s = this.cut[c];
        if (Number.isNaN(when)) {
          s.badDate++;
          s.sample(line);
          continue;
        }
        if (when >= ends[c]) continue;
        if (k >= 0 && nav > 0) s.offerNav(k, when, nav, cols.id[r], line);
        if (k < 0) {
          s.missingKey++;
          s.sample(line);
          continue;
        }
        const t = this.classOf(cols.type[r]);
        if (t.sign === UNMAPPED) s.unmappedTypes[t.name] = (s.unmappedTypes[t.name] ?? 0) + 1;
        else if (t.sign === IGNORED) s.ignoredTypes[t.name] = (s.ignoredTypes[t.name] ?? 0) + 1;
        else if (Number.isNaN(units)) {
          s.nonNumericUnits++;
          s.sample(line);
        } else s.count(k, t.sign * units);
      }
    }
  }

  result(lines: number): LedgerRange {
    const keys = this.productCode.length;
    return {
      lines,
      productCode: this.productCode,
      folio: this.folio,
      scheme: this.scheme,
      cutoffs: this.cut.map((c) => c.result(keys)),
      later: this.later,
      failure: null,
    };
  }
}

/**
 * Splits a file into at most `parts` ranges of about equal size, each ending just after a newline
 * (or at the end of the file).
 */
export function ledgerRanges(path: string, parts: number): { start: number; end: number }[] {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const out: { start: number; end: number }[] = [];
    const probe = Buffer.allocUnsafe(64 << 10);
    let start = 0;
    for (let p = 1; p < parts && start < size; p++) {
      let at = Math.max(start, Math.floor((size * p) / parts));
      let end = size;
      while (at < size) {
        const n = readSync(fd, probe, 0, probe.length, at);
        if (n === 0) break;
        const nl = probe.subarray(0, n).indexOf(0x0a);
        if (nl >= 0) {
          end = at + nl + 1;
          break;
        }
        at += n;
      }
      if (end > start) out.push({ start, end });
      start = end;
    }
    if (start < size || out.length === 0) out.push({ start, end: size });
    return out;
  } finally {
    closeSync(fd);
  }
}
