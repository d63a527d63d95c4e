/**
 * One source's holdings, key → units, as the pool left them: one table per merge partition, every
 * column a typed array in shared memory, each key already judged against the ledger. A key costs
 * 40 to 60 bytes and no string until a row is written, which is what keeps two files of five
 * million rows inside a small machine's memory. A row is made on demand, once, when it is written.
 *
 * Assembly (main thread): map each range's product codes, text folios and scheme names to the run's
 * ids, cut each range's rows into its partitions, and merge every partition in the pool.
 */
import type { RangeRows } from './dbf/decoder.js';
import type { KeySpace } from './keys/key-space.js';
import { Interned, NOT_INTERNED } from './keys/interned.js';
import { KeyTable } from './keys/key-table.js';
import {
  mergePartition,
  type MergeInput,
  type MergeTask,
  type PartitionTable,
} from './merge-judge.js';
import type { PositionIndex } from './position-index.js';
import { FILE_STATUSES, type ReconRow, type ReconStatus, type SourceDay } from './reconcile.js';

const MATCHED = FILE_STATUSES.indexOf('matched');

export class HoldingTable {
  readonly size: number;
  private readonly starts: number[] = [];
  private readonly lookups: KeyTable[];
  private lastPart = 0;

  constructor(
    protected readonly space: KeySpace,
    protected readonly parts: readonly PartitionTable[],
    protected readonly schemeNames: readonly string[],
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

  has(productCode: string, folio: string): boolean {
    return this.find(productCode, folio) >= 0;
  }

  /** Position of a key (0 ≤ i < size), or -1. */
  find(productCode: string, folio: string): number {
    if (this.size === 0) return -1;
    const pid = this.space.findProduct(productCode);
    const code = this.space.findFolio(folio);
    if (pid === NOT_INTERNED || Number.isNaN(code)) return -1;
    const p = this.space.partition(pid, code, folio, this.parts.length);
    const at = this.lookups[p].find(pid, code);
    return at < 0 ? -1 : this.starts[p] + at;
  }

  /**
   * The positions of the keys the merge judged other than matched, in order: the status columns
   * scanned once, partition by partition (a bad day has millions of keys).
   */
  breakPositions(): Int32Array {
    let count = 0;
    for (const part of this.parts)
      for (let at = 0, size = part.keys.size; at < size; at++)
        if (part.status[at] !== MATCHED) count++;
    const out = new Int32Array(count);
    let o = 0;
    for (const [p, part] of this.parts.entries()) {
      const start = this.starts[p];
      for (let at = 0, size = part.keys.size; at < size; at++)
        if (part.status[at] !== MATCHED) out[o++] = start + at;
    }
    return out;
  }

  /** The status of the key at a position, as the merge judged it against the source's day. */
  statusAt(i: number): ReconStatus {
    const p = this.partOf(i);
    return FILE_STATUSES[this.parts[p].status[i - this.starts[p]]];
  }

  productCodeAt(i: number): string {
    const p = this.partOf(i);
    return this.space.products[this.parts[p].keys.pid[i - this.starts[p]]];
  }

  folioAt(i: number): string {
    const p = this.partOf(i);
    return this.space.folioText(this.parts[p].keys.folio[i - this.starts[p]]);
  }

  /** The file's NAV for the key at a position (ten-thousandths), or null. */
  navAt(i: number): number | null {
    const p = this.partOf(i);
    return this.navIn(p, i - this.starts[p]);
  }

  /**
   * The result row of the key at a position: the merge's sums, status and ledger balance. The
   * fields explaining a break sets are there, unset, in the order it sets them: a break's row
   * keeps its shape instead of growing field by field (millions of breaks on a bad day).
   */
  rowAt(src: SourceDay, i: number): ReconRow {
    const p = this.partOf(i);
    const at = i - this.starts[p];
    const part = this.parts[p];
    const l = part.ledgerAt[at];
    const mongoUnits = l < 0 || this.ledger === null ? null : this.ledger[p].units[l];
    const units = part.units[at];
    const old = part.folioOld ? part.folioOld[at] : -1;
    return {
      source: src.source,
      status: FILE_STATUSES[part.status[at]],
      asOf: src.asOf,
      productCode: this.space.products[part.keys.pid[at]],
      folio: this.space.folioText(part.keys.folio[at]),
      schemeName: part.scheme[at] < 0 ? null : this.schemeNames[part.scheme[at]],
      dbfUnits: units,
      mongoUnits,
      difference: (mongoUnits ?? 0) - units,
      dbfRows: part.rows[at],
      decimals: src.decimals,
      pledged: this.pledgedIn(p, at),
      folioOld: old < 0 ? null : part.folioOldTexts[old],
      nav: this.navIn(p, at),
      reason: undefined,
      navSource: undefined,
      valuePaise: undefined,
      immaterial: undefined,
      lifecycle: undefined,
      firstSeen: undefined,
      ageDays: undefined,
    };
  }

  /** Pledged units of a key: 0 when the file has none, undefined when unreadable. */
  protected pledgedIn(p: number, at: number): number | undefined {
    const pledged = this.parts[p].pledged;
    return !pledged ? 0 : Number.isNaN(pledged[at]) ? undefined : pledged[at];
  }

  protected navIn(p: number, at: number): number | null {
    const nav = this.parts[p].nav;
    return nav === undefined || Number.isNaN(nav[at]) ? null : nav[at];
  }

  /** The partition of a position and its entry there. */
  protected locate(i: number): [partition: number, at: number] {
    const p = this.partOf(i);
    return [p, i - this.starts[p]];
  }

  /**
   * The partition of a position; positions are mostly visited in order. (No pair is made: the
   * accessors run several times for each of millions of keys.)
   */
  private partOf(i: number): number {
    const starts = this.starts;
    let p = this.lastPart;
    if (i < starts[p] || (p + 1 < starts.length && i >= starts[p + 1])) {
      let lo = 0,
        hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid] <= i) lo = mid;
        else hi = mid - 1;
      }
      p = this.lastPart = lo;
    }
    return p;
  }
}

/**
 * Merges ranges (in file order, then record order) into one source's table, judged against
 * `ledger`.
 */
export async function assembleTable<T extends HoldingTable = HoldingTable>(
  ranges: readonly RangeRows[],
  space: KeySpace,
  ledger: PositionIndex | null,
  tolerance: number,
  merge: (task: MergeTask) => Promise<PartitionTable> = (task) =>
    Promise.resolve(mergePartition(task)),
  Table: TableClass<T> = HoldingTable as TableClass<T>,
): Promise<T> {
  const { tasks, schemeNames, products } = mergeTasks(ranges, space, ledger, tolerance);
  const parts = await Promise.all(tasks.map((t) => merge(t)));
  return new Table(space, parts, schemeNames, ledger, products);
}

/** HoldingTable or a class that reads it another way (the tests' reference). */
export type TableClass<T extends HoldingTable> = new (
  ...args: ConstructorParameters<typeof HoldingTable>
) => T;

export function mergeTasks(
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
