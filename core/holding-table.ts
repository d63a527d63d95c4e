/**
 * One source's holdings, key → units, as the pool left them: one table per merge partition, every
 * column a typed array in shared memory, each key already judged against the ledger. A key costs
 * 40 to 60 bytes and no string until a row is written, which is what keeps two files of five
 * million rows inside a small machine's memory. Holdings and rows are made on demand.
 *
 * Assembly (main thread): map each range's product codes, text folios and scheme names to the run's
 * ids, cut each range's rows into its partitions, and merge every partition in the pool.
 */
import type { RangeRows } from './dbf/decoder.js';
import type { KeySpace } from './keys/key-space.js';
import { Interned } from './keys/interned.js';
import { KeyTable } from './keys/key-table.js';
import { keyOf, splitKey } from './keys/text-key.js';
import {
  mergePartition,
  type MergeInput,
  type MergeTask,
  type PartitionTable,
} from './merge-judge.js';
import type { PositionIndex } from './position-index.js';
import {
  FILE_STATUSES,
  emptyCounts,
  holdingRow,
  type Holding,
  type ReconRow,
  type ReconStatus,
  type SourceHoldings,
  type StatusCounts,
} from './reconcile.js';

export class HoldingTable {
  readonly size: number;
  private readonly starts: number[] = [];
  private readonly lookups: KeyTable[];

  constructor(
    private readonly space: KeySpace,
    private readonly parts: readonly PartitionTable[],
    private readonly schemeNames: readonly string[],
    private readonly ledger: PositionIndex | null,
    private readonly products: ReadonlySet<string>,
  ) {
    let n = 0;
    for (const p of parts) {
      this.starts.push(n);
      n += p.keys.size;
    }
    this.size = n;
    this.lookups = parts.map((p) => KeyTable.from(p.keys));
  }

  /** Product codes listed (to tell which registrar services an AMC). */
  productCodes(): ReadonlySet<string> {
    return this.products;
  }

  has(key: string): boolean {
    return this.indexOf(key) >= 0;
  }

  get(key: string): Holding | undefined {
    const at = this.indexOf(key);
    return at < 0 ? undefined : this.holdingAt(at);
  }

  /** Position of a key (0 ≤ i < size), or -1. */
  indexOf(key: string): number {
    if (this.size === 0) return -1;
    const [productCode, folio] = splitKey(key);
    const pid = this.space.findProduct(productCode);
    const code = this.space.findFolio(folio);
    if (pid < 0 || Number.isNaN(code)) return -1;
    const p = this.space.partition(pid, code, folio, this.parts.length);
    const at = this.lookups[p].find(pid, code);
    return at < 0 ? -1 : this.starts[p] + at;
  }

  /** How many keys have each status (mongo_only is never a file key's). */
  statusCounts(): StatusCounts {
    const out = emptyCounts();
    for (const p of this.parts)
      p.statusCounts.forEach((n, code) => {
        out[FILE_STATUSES[code]] += n;
      });
    return out;
  }

  /** The status of the key at a position, judged against the ledger of the source's day. */
  statusAt(i: number): ReconStatus {
    const [p, at] = this.locate(i);
    return FILE_STATUSES[this.parts[p].status[at]];
  }

  /** The holding at a position, made on demand. */
  holdingAt(i: number): Holding {
    const [p, at] = this.locate(i);
    return this.holdingIn(p, at);
  }

  /** The result row of the key at a position, with the ledger balance the pool found for it. */
  rowAt(src: Omit<SourceHoldings, 'holdings'>, i: number, tolerance: number): ReconRow {
    const [p, at] = this.locate(i);
    const l = this.parts[p].ledgerAt[at];
    return holdingRow(
      src,
      this.holdingIn(p, at),
      l < 0 || this.ledger === null ? null : this.ledger[p].units[l],
      tolerance,
    );
  }

  /** Holdings in partition order; each object is made on demand. */
  *[Symbol.iterator](): IterableIterator<Holding> {
    for (let p = 0; p < this.parts.length; p++)
      for (let at = 0; at < this.parts[p].keys.size; at++) yield this.holdingIn(p, at);
  }

  private holdingIn(p: number, at: number): Holding {
    const part = this.parts[p];
    const productCode = this.space.products[part.keys.pid[at]];
    const folio = this.space.folioText(part.keys.folio[at]);
    const old = part.folioOld ? part.folioOld[at] : -1;
    return {
      key: keyOf(productCode, folio),
      productCode,
      folio,
      schemeName: part.scheme[at] < 0 ? null : this.schemeNames[part.scheme[at]],
      units: part.units[at],
      rows: part.rows[at],
      pledged: !part.pledged ? 0 : Number.isNaN(part.pledged[at]) ? undefined : part.pledged[at],
      folioOld: old < 0 ? null : part.folioOldTexts[old],
      nav: this.navIn(p, at),
    };
  }

  /** The file's NAV for the key at a position (ten-thousandths), or null. */
  navAt(i: number): number | null {
    const [p, at] = this.locate(i);
    return this.navIn(p, at);
  }

  private navIn(p: number, at: number): number | null {
    const nav = this.parts[p].nav;
    return nav === undefined || Number.isNaN(nav[at]) ? null : nav[at];
  }

  private locate(i: number): [partition: number, at: number] {
    let lo = 0,
      hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= i) lo = mid;
      else hi = mid - 1;
    }
    return [lo, i - this.starts[lo]];
  }
}

/**
 * Merges ranges (in file order, then record order) into one source's table, judged against
 * `ledger`.
 */
export async function assembleTable(
  ranges: readonly RangeRows[],
  space: KeySpace,
  ledger: PositionIndex | null,
  tolerance: number,
  merge: (task: MergeTask) => Promise<PartitionTable> = (task) =>
    Promise.resolve(mergePartition(task)),
): Promise<HoldingTable> {
  const { tasks, schemeNames, products } = mergeTasks(ranges, space, ledger, tolerance);
  const parts = await Promise.all(tasks.map((t) => merge(t)));
  return new HoldingTable(space, parts, schemeNames, ledger, products);
}

/** The same, merged on this thread (tests, tools). */
export function assembleTableSync(
  ranges: readonly RangeRows[],
  space: KeySpace,
  ledger: PositionIndex | null = null,
  tolerance = 0,
): HoldingTable {
  const { tasks, schemeNames, products } = mergeTasks(ranges, space, ledger, tolerance);
  return new HoldingTable(
    space,
    tasks.map((t) => mergePartition(t)),
    schemeNames,
    ledger,
    products,
  );
}

function mergeTasks(
  ranges: readonly RangeRows[],
  space: KeySpace,
  ledger: PositionIndex | null,
  tolerance: number,
) {
  const partitions = ranges.length === 0 ? 1 : ranges[0].offsets.length - 1;
  if (
    ranges.some((r) => r.offsets.length - 1 !== partitions) ||
    (ledger !== null && ledger.length !== partitions)
  ) {
    throw new Error('ranges and ledger index must be cut into the same partitions');
  }
  const schemes = new Interned();
  const products = new Set<string>();
  const tasks: MergeTask[] = Array.from({ length: partitions }, (_, p) => ({
    inputs: [],
    ledger: ledger?.[p] ?? null,
    tolerance,
  }));
  for (const r of ranges) {
    for (const p of r.products) products.add(p);
    const productMap = Int32Array.from(r.products, (p) => space.product(p));
    const folioCodeMap = Int32Array.from(r.folioTexts, (t) => space.folio(t));
    const schemeMap = Int32Array.from(r.schemeNames, (name) => schemes.id(name));
    for (let p = 0; p < partitions; p++) {
      const a = r.offsets[p],
        b = r.offsets[p + 1];
      if (a === b) continue;
      // Views of shared memory: nothing is copied on the way to the merge task.
      const input: MergeInput = {
        pid: r.pid.subarray(a, b),
        folio: r.folio.subarray(a, b),
        units: r.units.subarray(a, b),
        scheme: r.scheme.subarray(a, b),
        pledged: r.pledged?.subarray(a, b),
        folioOld: r.folioOld?.subarray(a, b),
        nav: r.nav?.subarray(a, b),
        productMap,
        folioCodeMap,
        schemeMap,
        folioOldTexts: r.folioOldTexts,
      };
      tasks[p].inputs.push(input);
    }
  }
  return { tasks, schemeNames: schemes.texts, products };
}
