/**
 * The ranges of an ndjson ledger (ndjson-range.ts) joined in file order, as one read of the whole
 * file gives them. Each key is numbered once, found across ranges by keyPartsHash (made on the
 * pool's threads) and its parts; the positions become objects, while NAVs and scheme names stay in
 * arrays by key number and are looked up by text only for the few keys a run asks about.
 */
import { addUnits } from '../fixed-point.js';
import { splitKey } from '../keys/text-key.js';
import type { LedgerPosition, Positions } from '../reconcile.js';
import { keyPartsHash, type LedgerRange } from './ndjson-range.js';
import { unmappedTypes } from './positions.js';
import type { Cutoff, LedgerSnapshot } from './types.js';

/** A snapshot's positions as a list (each key once), in the order of their first transaction. */
class PositionList implements Positions {
  constructor(private readonly list: LedgerPosition[]) {}

  get size(): number {
    return this.list.length;
  }

  values(): IterableIterator<LedgerPosition> {
    return this.list.values();
  }
}

/** Each cut-off's latest NAV per key: its timestamp (NaN: none), value, and where it was read. */
interface NavColumn {
  at: Float64Array;
  nav: Float64Array;
  range: Int32Array;
  line: Float64Array;
  id: (string | null)[];
}

export class JoinedLedger {
  readonly snapshots: LedgerSnapshot[];
  /** Per joined key: its product code (interned across ranges), folio and scheme name. */
  private readonly productCode: string[] = [];
  private readonly folio: string[] = [];
  private readonly scheme: (string | null)[] = [];
  private readonly products = new Map<string, string>();
  private readonly hashes: Int32Array;
  private readonly slots: Int32Array;
  /** Per range, its key numbers → the joined ones. */
  private readonly keyOf: Int32Array[];
  private readonly firstLines: number[] = [];
  private readonly navs: NavColumn[];

  constructor(
    private readonly name: string,
    private readonly cutoffs: readonly Cutoff[],
    private readonly ranges: readonly LedgerRange[],
  ) {
    let lines = 0;
    let total = 0;
    for (const r of ranges) {
      this.firstLines.push(lines);
      lines += r.lines;
      total += r.folio.length;
    }
    this.hashes = new Int32Array(total);
    let size = 16;
    while (size < total * 2) size *= 2;
    this.slots = new Int32Array(size);
    this.keyOf = ranges.map((r) => this.number(r));
    this.snapshots = cutoffs.map((cutoff, c) => this.snapshot(cutoff, c));
    this.navs = cutoffs.map((_, c) => this.latestNavs(c));
  }

  /** The joined number of a key by its text, or -1. */
  find(text: string): number {
    const [productCode, folio] = splitKey(text);
    const h = keyPartsHash(productCode, folio);
    const mask = this.slots.length - 1;
    for (let s = h & mask; this.slots[s] !== 0; s = (s + 1) & mask) {
      const g = this.slots[s] - 1;
      if (this.hashes[g] === h && this.folio[g] === folio && this.productCode[g] === productCode)
        return g;
    }
    return -1;
  }

  /** A transaction's id: its `_id`, else the file and its line (range `range`'s line `line`). */
  transactionId(range: number, id: string | null, line: number): string {
    return id ?? `${this.name}:${this.firstLines[range] + line}`;
  }

  /** The first scheme name a key's transactions carry in the file. */
  schemeName(text: string): string | undefined {
    const g = this.find(text);
    return g < 0 ? undefined : (this.scheme[g] ?? undefined);
  }

  /** A key's NAV (ten-thousandths) of its latest transaction before cut-off `c` that has one. */
  latestNav(c: number, text: string): number | undefined {
    const g = this.find(text);
    return g < 0 || Number.isNaN(this.navs[c].at[g]) ? undefined : this.navs[c].nav[g];
  }

  /** Numbers the keys of range r, adding those not met in an earlier range. */
  private number(r: LedgerRange): Int32Array {
    const out = new Int32Array(r.folio.length);
    const mask = this.slots.length - 1;
    const products = r.products.map((p) => this.products.get(p) ?? this.products.set(p, p).get(p)!);
    for (let k = 0; k < r.folio.length; k++) {
      const h = r.keyHash[k];
      const productCode = products[r.product[k]];
      const folio = r.folio[k];
      const scheme = r.scheme[k] < 0 ? null : r.schemes[r.scheme[k]];
      let s = h & mask;
      let g = -1;
      for (; this.slots[s] !== 0; s = (s + 1) & mask) {
        const at = this.slots[s] - 1;
        if (
          this.hashes[at] === h &&
          this.folio[at] === folio &&
          this.productCode[at] === productCode
        ) {
          g = at;
          break;
        }
      }
      if (g < 0) {
        g = this.folio.length;
        this.productCode.push(productCode);
        this.folio.push(folio);
        this.scheme.push(scheme);
        this.hashes[g] = h;
        this.slots[s] = g + 1;
      } else if (this.scheme[g] === null) this.scheme[g] = scheme;
      out[k] = g;
    }
    return out;
  }

  private snapshot(cutoff: Cutoff, c: number): LedgerSnapshot {
    const keys = this.folio.length;
    const units = new Float64Array(keys);
    const transactions = new Float64Array(keys);
    const order: number[] = [];
    const snap: LedgerSnapshot = {
      ...cutoff,
      positions: new PositionList([]),
      transactions: 0,
      anomalies: { missingKey: 0, nonNumericUnits: 0, badDate: 0, samples: [] },
      ignoredTypes: {},
    };
    const unmapped = new Map<string, number>();
    this.ranges.forEach((r, i) => {
      const rc = r.cutoffs[c];
      const keyOf = this.keyOf[i];
      for (const k of rc.order) {
        const g = keyOf[k];
        if (transactions[g] === 0) order.push(g);
        units[g] = addUnits(units[g], rc.units[k]);
        transactions[g] += rc.transactions[k];
      }
      snap.transactions += rc.counted;
      const a = snap.anomalies;
      a.missingKey += rc.missingKey;
      a.nonNumericUnits += rc.nonNumericUnits;
      a.badDate += rc.badDate;
      for (const line of rc.sampleLines)
        if (a.samples.length < 10) a.samples.push(`${this.name}:${this.firstLines[i] + line}`);
      for (const [t, n] of Object.entries(rc.ignoredTypes))
        snap.ignoredTypes[t] = (snap.ignoredTypes[t] ?? 0) + n;
      for (const [t, n] of Object.entries(rc.unmappedTypes))
        unmapped.set(t, (unmapped.get(t) ?? 0) + n);
    });
    if (unmapped.size > 0) throw unmappedTypes(cutoff.asOf, unmapped);
    snap.positions = new PositionList(
      order.map((g) => ({
        productCode: this.productCode[g],
        folio: this.folio[g],
        units: units[g],
        transactions: transactions[g],
      })),
    );
    return snap;
  }

  /**
   * The latest NAV per key before cut-off `c`. Ties on the timestamp go to the larger id (the
   * `_id`, else file:line), as LatestNavs decides them; ids are made only for ties.
   */
  private latestNavs(c: number): NavColumn {
    const keys = this.folio.length;
    const col: NavColumn = {
      at: new Float64Array(keys).fill(NaN),
      nav: new Float64Array(keys),
      range: new Int32Array(keys),
      line: new Float64Array(keys),
      id: new Array<string | null>(keys).fill(null),
    };
    const offer = (g: number, at: number, nav: number, i: number, id: string | null, l: number) => {
      const best = col.at[g];
      if (
        at === best &&
        !(this.transactionId(i, id, l) > this.transactionId(col.range[g], col.id[g], col.line[g]))
      )
        return;
      if (at < best) return;
      col.at[g] = at;
      col.nav[g] = nav;
      col.range[g] = i;
      col.id[g] = id;
      col.line[g] = l;
    };
    this.ranges.forEach((r, i) => {
      const rc = r.cutoffs[c];
      const keyOf = this.keyOf[i];
      for (let k = 0; k < rc.navAt.length; k++) {
        const at = rc.navAt[k];
        if (Number.isNaN(at)) continue;
        const g = keyOf[k];
        offer(g, at, rc.nav[k], i, rc.navId[k], rc.navLine[k]);
        for (const t of rc.navTies[k] ?? []) offer(g, at, t.nav, i, t.id, t.line);
      }
    });
    return col;
  }
}
