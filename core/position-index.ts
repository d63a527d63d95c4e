/**
 * A ledger snapshot's positions as numbers: (product id, folio code) → net units, cut into the same
 * merge partitions as the file rows, so each merge task judges its keys against a table small
 * enough to stay in a core's cache (one table for a million positions does not).
 * Shared memory: the pool's threads read it without a copy. Built on the main thread once per
 * as-of day, as part of the ledger stage.
 */
import type { KeySpace } from './keys/key-space.js';
import { KeyTable } from './keys/key-table.js';
import type { LedgerIndexData } from './merge-judge.js';
import type { Positions } from './reconcile.js';
import { sharedArray } from './shared-array.js';

/** One LedgerIndexData per merge partition. */
export type PositionIndex = LedgerIndexData[];

export function indexPositions(
  positions: Positions,
  space: KeySpace,
  partitions = 1,
): PositionIndex {
  const n = positions.size;
  const pid = new Int32Array(n);
  const folio = new Float64Array(n);
  const units = new Float64Array(n);
  const part = new Uint16Array(n);
  const counts = new Uint32Array(partitions);
  let i = 0;
  for (const pos of positions.values()) {
    const p = space.product(pos.productCode);
    const code = space.folio(pos.folio);
    pid[i] = p;
    folio[i] = code;
    units[i] = pos.units;
    part[i] = space.partition(p, code, pos.folio, partitions);
    counts[part[i]]++;
    i++;
  }
  const tables = Array.from(counts, (c) => new KeyTable(c, true));
  const unitsOf = Array.from(counts, (c) => sharedArray(Float64Array, c));
  for (let k = 0; k < n; k++) {
    const at = tables[part[k]].insert(pid[k], folio[k]);
    unitsOf[part[k]][at] = units[k];
  }
  return tables.map((t, p) => ({ keys: t.data(), units: unitsOf[p] }));
}
