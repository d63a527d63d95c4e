/**
 * A ledger snapshot's positions as numbers: (product id, folio code) → net units, cut into the same
 * merge partitions as the file rows, so each merge task judges its keys against a table small
 * enough to stay in cache (one table for a million positions was measured at three times the cost).
 * Shared memory: the pool's threads read it without a copy. Built on the main thread once per
 * as-of day, as part of the ledger stage.
 */
import type { KeySpace } from './key-space.js';
import { KeyTable, partitionOf, textHash } from './key-table.js';
import type { LedgerIndexData } from './merge.js';
import type { LedgerPosition } from './reconcile.js';

/** One LedgerIndexData per merge partition. */
export type PositionIndex = LedgerIndexData[];

export function indexPositions(positions: ReadonlyMap<string, LedgerPosition>, space: KeySpace, partitions = 1): PositionIndex {
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
    if (partitions > 1) {
      part[i] = partitionOf(space.productHashes[p], code, code < 0 ? textHash(pos.folio) : 0, partitions);
      counts[part[i]]++;
    } else counts[0]++;
    i++;
  }
  const tables = Array.from(counts, (c) => new KeyTable(c, true));
  const unitsOf = Array.from(counts, (c) => new Float64Array(new SharedArrayBuffer(Math.max(1, c) * 8)));
  for (let k = 0; k < n; k++) {
    const at = tables[part[k]].insert(pid[k], folio[k]);
    unitsOf[part[k]][at] = units[k];
  }
  return tables.map((t, p) => ({ keys: t.data(), units: unitsOf[p] }));
}
