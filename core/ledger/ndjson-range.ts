/**
 * One byte range of an ndjson ledger, read and summed on its own, so the pool's threads can share
 * a large file: a range starts after a newline and ends at one, its lines are numbered from 1, and
 * what it sums (per key and cut-off: net units, transactions, the latest NAV; the anomalies, the
 * transaction types, the first scheme name, the transactions after the earliest cut-off) is plain
 * data that the reader joins in file order (ndjson.ts), turning line numbers into the file's.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ReconError } from '../errors.js';
import { addUnits } from '../fixed-point.js';
import { Interned } from '../keys/interned.js';
import { keyOf } from '../keys/text-key.js';
import {
  Col,
  COLS,
  Held,
  LedgerLineReader,
  type LedgerColumns,
  type LedgerScalar,
} from './ndjson-columns.js';
import { IGNORED_TYPE, keyText, TransactionTypes, UNMAPPED_TYPE } from './positions.js';
import type { LedgerFields } from './types.js';

export interface LedgerRangeTask {
  /** The file's path (its name is in errors and anomaly samples). */
  path: string;
  /**
   * An open descriptor of the file, which the pool's threads share: every range reads the same
   * file, even when another is renamed over `path` meanwhile. Without it, `path` is opened.
   */
  fd?: number;
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
  /** Bytes read at a time (default 4 MiB; tests make it small so the buffer is refilled often). */
  readBytes?: number;
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
  /**
   * Per key: its product code (by number in `products`), its folio, keyPartsHash of the two, and
   * the first scheme name its transactions carry in this range (by number
   * in `schemes`, -1: none). Codes and names repeat from key to key: each crosses threads once.
   */
  products: string[];
  product: Int32Array;
  folio: string[];
  keyHash: Int32Array;
  schemes: string[];
  scheme: Int32Array;
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
const LONE_SURROGATE = /\p{Surrogate}/u;

/** Reads and sums one range (see LedgerRangeTask). Synchronous: it runs on a pool thread. */
export function readLedgerRange(task: LedgerRangeTask): LedgerRange {
  const sum = new RangeSums(task);
  const reader = new LedgerLineReader(task.path, task.fields, 4096, task.readBytes, task.fd);
  try {
    for (const cols of reader.batches(task.start, task.end)) sum.add(cols);
  } catch (err) {
    const e = err as ReconError;
    const line = reader.lines();
    if (e instanceof ReconError && e.code === 'RECON_LEDGER_READ' && e.context.record === line)
      return { ...sum.result(line), failure: { line, message: e.message } };
    throw err;
  }
  return sum.result(reader.lines());
}

/**
 * Grows a Float64Array to hold index `i` (a key can be first counted long after it was first met,
 * so `i` may be far past the end).
 */
function room(a: Float64Array<ArrayBuffer>, i: number, fill: number): Float64Array<ArrayBuffer> {
  if (i < a.length) return a;
  const b = new Float64Array(Math.max(1024, a.length * 2, i + 1));
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

  /** Row r's NAV for key k (the id is made only when the row is kept or ties). */
  offerNav(k: number, at: number, nav: number, cols: LedgerColumns, r: number, line: number) {
    this.navAt = room(this.navAt, k, NaN);
    this.nav = room(this.nav, k, NaN);
    this.navLine = room(this.navLine, k, NaN);
    const best = this.navAt[k];
    if (!(at <= best)) {
      this.navAt[k] = at;
      this.nav[k] = nav;
      this.navId[k] = cols.id(r);
      this.navLine[k] = line;
      delete this.navTies[k];
    } else if (at === best) (this.navTies[k] ??= []).push({ nav, id: cols.id(r), line });
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
 * Keys met as plain bytes (a product code and a folio that need no trimming and no unescaping, so
 * their bytes are their text), found again without making a string: a cache in front of the key
 * texts, which stay the one numbering.
 */
class ByteKeys {
  private slots = new Int32Array(1 << 12);
  private count = 0;
  private keyOf = new Int32Array(1024);
  private hashOf = new Int32Array(1024);
  private at = new Int32Array(1024);
  private productLength = new Int32Array(1024);
  private folioLength = new Int32Array(1024);
  private arena = new Uint8Array(1 << 16);
  private used = 0;

  static hash(b: Uint8Array, pf: number, pt: number, ff: number, ft: number): number {
    let h = 0x811c9dc5;
    for (let i = pf; i < pt; i++) h = Math.imul(h ^ b[i], 0x01000193);
    h = Math.imul(h ^ 0xff, 0x01000193); // no byte of UTF-8 text: the parts cannot run together
    for (let i = ff; i < ft; i++) h = Math.imul(h ^ b[i], 0x01000193);
    return h | 0;
  }

  /** The key index of these bytes, or -1. */
  find(b: Uint8Array, pf: number, pt: number, ff: number, ft: number, h: number): number {
    const mask = this.slots.length - 1;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const e = this.slots[s] - 1;
      if (e < 0) return -1;
      if (
        this.hashOf[e] === h &&
        this.productLength[e] === pt - pf &&
        this.folioLength[e] === ft - ff &&
        this.same(e, b, pf, pt, ff, ft)
      )
        return this.keyOf[e];
    }
  }

  insert(key: number, b: Uint8Array, pf: number, pt: number, ff: number, ft: number, h: number) {
    if ((this.count + 1) * 2 > this.slots.length) this.rehash();
    const e = this.count++;
    if (e === this.keyOf.length) {
      const grow = (a: Int32Array) => {
        const g = new Int32Array(a.length * 2);
        g.set(a);
        return g;
      };
      this.keyOf = grow(this.keyOf);
      this.hashOf = grow(this.hashOf);
      this.at = grow(this.at);
      this.productLength = grow(this.productLength);
      this.folioLength = grow(this.folioLength);
    }
    const n = pt - pf + (ft - ff);
    if (this.used + n > this.arena.length) {
      const g = new Uint8Array(Math.max(this.arena.length * 2, this.used + n));
      g.set(this.arena);
      this.arena = g;
    }
    const a = this.arena;
    let j = this.used;
    for (let i = pf; i < pt; i++) a[j++] = b[i];
    for (let i = ff; i < ft; i++) a[j++] = b[i];
    this.keyOf[e] = key;
    this.hashOf[e] = h;
    this.at[e] = this.used;
    this.productLength[e] = pt - pf;
    this.folioLength[e] = ft - ff;
    this.used += n;
    this.place(e);
  }

  private same(e: number, b: Uint8Array, pf: number, pt: number, ff: number, ft: number): boolean {
    const a = this.arena;
    let j = this.at[e];
    for (let i = pf; i < pt; i++) if (a[j++] !== b[i]) return false;
    for (let i = ff; i < ft; i++) if (a[j++] !== b[i]) return false;
    return true;
  }

  private place(e: number): void {
    const mask = this.slots.length - 1;
    let s = this.hashOf[e] & mask;
    while (this.slots[s] !== 0) s = (s + 1) & mask;
    this.slots[s] = e + 1;
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    for (let e = 0; e < this.count; e++) this.place(e);
  }
}

/** ByteKeys' hash of a key's parts as text (their UTF-8 bytes): how the join finds a key. */
export function keyPartsHash(productCode: string, folio: string): number {
  const p = Buffer.from(productCode);
  const both = Buffer.concat([p, Buffer.from(folio)]);
  return ByteKeys.hash(both, 0, p.length, p.length, both.length);
}

/** A span that is its own trimmed text: not empty, no white space (nor non-ASCII) at its ends. */
function trimmedSpan(b: Uint8Array, from: number, to: number): boolean {
  return to > from && b[from] > 0x20 && b[from] < 0x80 && b[to - 1] > 0x20 && b[to - 1] < 0x80;
}

/**
 * The rules of PositionBuilder (positions.ts) applied to columns: a key is trimmed text or a whole
 * number, a type is signed by config or ignored or unmapped, units that are no number are counted.
 */
class RangeSums {
  /** Keys with a part that is not well-formed UTF-16, by text (see key()). */
  private readonly oddKeys = new Map<string, number>();
  private readonly bytes = new ByteKeys();
  private readonly productBytes = new ByteKeys();
  private readonly schemeBytes = new ByteKeys();
  private readonly products = new Interned();
  private readonly product: number[] = [];
  private readonly folio: string[] = [];
  private readonly keyHash: number[] = [];
  private readonly schemes = new Interned();
  private readonly scheme: number[] = [];
  private readonly cut: CutoffSums[];
  private readonly ends: readonly number[];
  private readonly types: TransactionTypes;
  /** Types met as ASCII bytes, with their class: a few, compared byte by byte. */
  private readonly typeBytes: {
    bytes: Uint8Array;
    c: { readonly sign: number; readonly name: string };
  }[] = [];
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
    this.types = new TransactionTypes(task);
  }

  /** The class of row r's type, from its bytes when they are a short ASCII string. */
  private typeOf(cols: LedgerColumns, r: number): { sign: number; name: string } {
    const at = r * COLS + Col.Type;
    if (cols.held[at] !== Held.Ascii || cols.to[at] - cols.from[at] > 32)
      return this.types.classify(cols.type(r));
    const b = cols.buf;
    const from = cols.from[at];
    const n = cols.to[at] - from;
    for (const t of this.typeBytes) {
      if (t.bytes.length !== n) continue;
      let k = 0;
      while (k < n && t.bytes[k] === b[from + k]) k++;
      if (k === n) return t.c;
    }
    const c = this.types.classify(cols.type(r));
    // A copy (Buffer#slice is a view): the read buffer is overwritten by the next read.
    if (this.typeBytes.length < 16)
      this.typeBytes.push({ bytes: Buffer.from(b.subarray(from, from + n)), c });
    return c;
  }

  /** The index of the key whose parts are these bytes (their UTF-8 text), made when new. */
  private keyOfBytes(b: Buffer, pf: number, pt: number, ff: number, ft: number): number {
    const h = ByteKeys.hash(b, pf, pt, ff, ft);
    let k = this.bytes.find(b, pf, pt, ff, ft, h);
    if (k < 0) {
      k = this.newKey(this.productOf(b, pf, pt), b.toString('utf8', ff, ft), h);
      this.bytes.insert(k, b, pf, pt, ff, ft, h);
    }
    return k;
  }

  /** The number of a product code by its bytes; a string only for a code not met before. */
  private productOf(b: Buffer, pf: number, pt: number): number {
    const h = ByteKeys.hash(b, pf, pt, pt, pt);
    let id = this.productBytes.find(b, pf, pt, pt, pt, h);
    if (id < 0) {
      id = this.products.id(b.toString('utf8', pf, pt));
      this.productBytes.insert(id, b, pf, pt, pt, pt, h);
    }
    return id;
  }

  /** The index of a key by its trimmed text parts, made when new. */
  private key(p: string, f: string): number {
    if (LONE_SURROGATE.test(p) || LONE_SURROGATE.test(f)) {
      // A lone surrogate has no UTF-8 bytes of its own: such keys are found by their text.
      const text = keyOf(p, f);
      let k = this.oddKeys.get(text);
      if (k === undefined) {
        k = this.newKey(this.products.id(p), f, keyPartsHash(p, f));
        this.oddKeys.set(text, k);
      }
      return k;
    }
    const pb = Buffer.from(p);
    const both = Buffer.concat([pb, Buffer.from(f)]);
    return this.keyOfBytes(both, 0, pb.length, pb.length, both.length);
  }

  /** A new key: its product's number, its folio, and keyPartsHash of the two. */
  private newKey(product: number, f: string, hash: number): number {
    this.product.push(product);
    this.folio.push(f);
    this.keyHash.push(hash);
    this.scheme.push(-1);
    return this.folio.length - 1;
  }

  /** Row r's key index, or -1 when it has no usable key. */
  private keyAt(cols: LedgerColumns, r: number): number {
    const pa = r * COLS + Col.ProductCode;
    const fa = r * COLS + Col.Folio;
    const hp = cols.held[pa];
    const hf = cols.held[fa];
    const b = cols.buf;
    if (
      (hp === Held.Ascii || hp === Held.Utf8) &&
      hf !== Held.Value &&
      trimmedSpan(b, cols.from[pa], cols.to[pa]) &&
      trimmedSpan(b, cols.from[fa], cols.to[fa])
    )
      return this.keyOfBytes(b, cols.from[pa], cols.to[pa], cols.from[fa], cols.to[fa]);
    const p = keyText(cols.productCode(r));
    const f = keyText(cols.folio(r));
    return p === null || f === null ? -1 : this.key(p, f);
  }

  /** Notes row r's scheme name for key k when k has none yet (names come from text codes). */
  private noteScheme(cols: LedgerColumns, r: number, k: number): void {
    if (this.scheme[k] >= 0) return;
    const held = cols.held[r * COLS + Col.ProductCode];
    if (held === Held.Digits || (held === Held.Value && typeof cols.productCode(r) !== 'string'))
      return;
    const at = r * COLS + Col.SchemeName;
    const b = cols.buf;
    const [from, to] = [cols.from[at], cols.to[at]];
    if ((cols.held[at] === Held.Ascii || cols.held[at] === Held.Utf8) && trimmedSpan(b, from, to)) {
      // Names repeat from key to key: found again by their bytes, a string only for a new one.
      const h = ByteKeys.hash(b, from, to, to, to);
      let id = this.schemeBytes.find(b, from, to, to, to, h);
      if (id < 0) {
        id = this.schemes.id(b.toString('utf8', from, to));
        this.schemeBytes.insert(id, b, from, to, to, to, h);
      }
      this.scheme[k] = id;
      return;
    }
    const name = cols.schemeName(r);
    if (name !== null) this.scheme[k] = this.schemes.id(name.trim());
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
          later.productCode.push(cols.productCode(r));
          later.folio.push(cols.folio(r));
          later.type.push(cols.type(r));
          later.units.push(Number.isNaN(units) ? null : units);
          later.id.push(cols.id(r));
          later.line.push(line);
          later.dateMs.push(when);
        }
      }
      const k = this.keyAt(cols, r);
      if (k >= 0) this.noteScheme(cols, r, k);
      const nav = cols.nav[r];
      for (let c = 0; c < ends.length; c++) {
        const s = this.cut[c];
        if (Number.isNaN(when)) {
          s.badDate++;
          s.sample(line);
          continue;
        }
        if (when >= ends[c]) continue;
        if (k >= 0 && nav > 0) s.offerNav(k, when, nav, cols, r, line);
        if (k < 0) {
          s.missingKey++;
          s.sample(line);
          continue;
        }
        const t = this.typeOf(cols, r);
        if (t.sign === UNMAPPED_TYPE) s.unmappedTypes[t.name] = (s.unmappedTypes[t.name] ?? 0) + 1;
        else if (t.sign === IGNORED_TYPE)
          s.ignoredTypes[t.name] = (s.ignoredTypes[t.name] ?? 0) + 1;
        else if (Number.isNaN(units)) {
          s.nonNumericUnits++;
          s.sample(line);
        } else s.count(k, t.sign * units);
      }
    }
  }

  result(lines: number): LedgerRange {
    const keys = this.folio.length;
    return {
      lines,
      products: [...this.products.texts],
      product: Int32Array.from(this.product),
      folio: this.folio,
      keyHash: Int32Array.from(this.keyHash),
      schemes: [...this.schemes.texts],
      scheme: Int32Array.from(this.scheme),
      cutoffs: this.cut.map((c) => c.result(keys)),
      later: this.later,
      failure: null,
    };
  }
}

/**
 * Splits a file (a path or an open descriptor) into at most `parts` ranges of about equal size,
 * each ending just after a newline (or at the end of the file).
 */
export function ledgerRanges(
  file: string | number,
  parts: number,
): { start: number; end: number }[] {
  // A descriptor given is the caller's to close.
  const fd = typeof file === 'number' ? file : openSync(file, 'r');
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
    if (typeof file !== 'number') closeSync(fd);
  }
}
