/**
 * The second half of decoding, run in the pool once per merge partition: the rows of one partition
 * from every range of a source's files are summed per key (a key's rows may straddle ranges and
 * files; partitioning by key means no other partition holds it) and judged against the ledger
 * index. Every thread merges and judges its own partitions, so the main thread never touches a row.
 * Pure: plain data in, plain data out.
 */
import type { RowColumns } from './dbf/decoder.js';
import { addUnits } from './fixed-point.js';
import { textFolioId } from './keys/folio-code.js';
import { KeyTable, type KeyTableData } from './keys/key-table.js';
import { statusCode } from './reconcile.js';
import { sharedArray } from './shared-array.js';

/**
 * One range's rows of one partition, with maps from the range's ids to the run's: product ids, and
 * the run's folio code of each of the range's text folios.
 */
export interface MergeInput extends RowColumns {
  productMap: Int32Array;
  folioCodeMap: Int32Array;
  schemeMap: Int32Array;
  folioOldTexts: string[];
}

/** The ledger's positions of one day as numbers (see position-index.ts); shared, read-only. */
export interface LedgerIndexData {
  keys: KeyTableData;
  /** Ten-thousandths, parallel to keys. */
  units: Float64Array;
}

export interface MergeTask {
  /**
   * In file order, then record order: "first seen" means the same thing however the file was split.
   */
  inputs: MergeInput[];
  ledger: LedgerIndexData | null;
  /** Ten-thousandths. */
  tolerance: number;
}

/**
 * One partition's keys with their sums and statuses: parallel arrays, whose first keys.size entries
 * count.
 */
export interface PartitionTable {
  keys: KeyTableData;
  units: Float64Array;
  rows: Uint32Array;
  scheme: Int32Array;
  pledged?: Float64Array;
  /** Index into folioOldTexts, or -1. */
  folioOld?: Int32Array;
  folioOldTexts: string[];
  /**
   * NAV per key (the first readable one of its rows), NaN when none; when the file has the column.
   */
  nav?: Float64Array;
  /** statusCode of each key against the ledger. */
  status: Uint8Array;
  /** How many keys have each statusCode. */
  statusCounts: number[];
  /** Entry of the ledger index, or -1. */
  ledgerAt: Int32Array;
}

/**
 * Every output column is allocated once, in shared memory, at the partition's row count (an upper
 * bound on its keys): the table reaches the main thread without a copy, and no column is built
 * twice.
 */
export function mergePartition(task: MergeTask): PartitionTable {
  const total = task.inputs.reduce((n, i) => n + i.pid.length, 0);
  const table = new KeyTable(total, true);
  const units = sharedArray(Float64Array, total);
  const rows = sharedArray(Uint32Array, total);
  const scheme = sharedArray(Int32Array, total);
  const withPledged = task.inputs.some((i) => i.pledged);
  const withFolioOld = task.inputs.some((i) => i.folioOld);
  const pledged = withPledged ? sharedArray(Float64Array, total) : undefined;
  const folioOld = withFolioOld ? sharedArray(Int32Array, total).fill(-1) : undefined;
  const folioOldTexts: string[] = [];
  const nav = task.inputs.some((i) => i.nav)
    ? sharedArray(Float64Array, total).fill(Number.NaN)
    : undefined;
  for (const input of task.inputs) {
    const { productMap, folioCodeMap, schemeMap } = input;
    const oldBase = folioOldTexts.length;
    for (const t of input.folioOldTexts) folioOldTexts.push(t);
    for (let r = 0; r < input.pid.length; r++) {
      const f = input.folio[r];
      const at = table.insert(productMap[input.pid[r]], f >= 0 ? f : folioCodeMap[textFolioId(f)]);
      const s = input.scheme[r] < 0 ? -1 : schemeMap[input.scheme[r]];
      if (rows[at] === 0) {
        units[at] = input.units[r];
        rows[at] = 1;
        scheme[at] = s;
      } else {
        units[at] = addUnits(units[at], input.units[r]);
        rows[at]++;
        if (scheme[at] < 0) scheme[at] = s;
      }
      // NaN is evidence that could not be read: the key's evidence stays absent, never a partial
      // sum.
      if (pledged && input.pledged)
        pledged[at] =
          Number.isNaN(pledged[at]) || Number.isNaN(input.pledged[r])
            ? Number.NaN
            : addUnits(pledged[at], input.pledged[r]);
      if (nav && input.nav && Number.isNaN(nav[at])) nav[at] = input.nav[r];
      if (folioOld && input.folioOld && folioOld[at] < 0 && input.folioOld[r] >= 0)
        folioOld[at] = oldBase + input.folioOld[r];
    }
  }
  const n = table.size;
  const status = sharedArray(Uint8Array, n);
  const ledgerAt = sharedArray(Int32Array, n);
  const ledger = task.ledger ? KeyTable.from(task.ledger.keys) : null;
  const statusCounts = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    const at = ledger ? ledger.find(table.pid[i], table.folio[i]) : -1;
    ledgerAt[i] = at;
    const s = statusCode(at < 0 ? null : task.ledger!.units[at], units[i], task.tolerance);
    status[i] = s;
    statusCounts[s]++;
  }
  return {
    keys: table.data(),
    units,
    rows,
    scheme,
    pledged,
    folioOld,
    folioOldTexts,
    nav,
    status,
    statusCounts,
    ledgerAt,
  };
}
