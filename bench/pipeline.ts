/**
 * Our decode + reconcile on one file, as the engine does it: record ranges decoded in the Piscina
 * pool, each merge partition summed and judged in the pool against the ledger index, statuses
 * counted there too.
 */
import { resolveColumns } from '../core/dbf/columns.js';
import { readDbfLayout, type DbfLayout } from '../core/dbf/layout.js';
import { mergePartitions, splitRanges } from '../core/run/decode.js';
import { KeySpace } from '../core/keys/key-space.js';
import { loadPlugin, resolvePluginSpecifier } from '../core/plugin.js';
import type { ReconPool } from '../core/pool.js';
import { indexPositions, type PositionIndex } from '../core/position-index.js';
import type { LedgerPosition, StatusCounts } from '../core/reconcile.js';
import { assembleReference, type ReferenceTable } from '../test/support/reference.js';

export interface PipelineResult {
  /** Wall time until every range was decoded. */
  decodeMs: number;
  /** Wall time from there until every key was merged, judged and counted. */
  reconcileMs: number;
  keys: number;
  counts: StatusCounts;
  table: ReferenceTable;
}

/** The ledger stage's output for one day: its positions indexed as numbers, in merge partitions. */
export interface IndexedLedger {
  space: KeySpace;
  index: PositionIndex;
  ms: number;
}

export function indexLedger(
  positions: ReadonlyMap<string, LedgerPosition>,
  records: number,
  threads: number,
): IndexedLedger {
  const space = new KeySpace();
  const t0 = performance.now();
  const index = indexPositions(positions, space, mergePartitions(records, threads));
  return { space, index, ms: performance.now() - t0 };
}

/**
 * One pass over the file with `pool` (reuse the pool across passes: a daemon's pool is warm). The
 * ledger is indexed beforehand, as the engine's ledger stage does while the pool decodes.
 */
export async function decodeAndReconcile(
  pool: ReconPool,
  file: string,
  plugin: 'karvy' | 'cams',
  ledger: IndexedLedger,
  rangeRecords = 250_000,
): Promise<PipelineResult> {
  const layout: DbfLayout = await readDbfLayout(file);
  const specifier = resolvePluginSpecifier(plugin, '.');
  const columns = resolveColumns(layout, await loadPlugin(specifier));
  const base = {
    file,
    headerLength: layout.headerLength,
    recordLength: layout.recordLength,
    columns,
    encoding: layout.encoding,
    pluginSpecifier: specifier,
  };
  const { space, index } = ledger;
  const partitions = index.length;
  const t0 = performance.now();
  const ranges = await Promise.all(
    splitRanges(layout.recordCount, pool.threads, rangeRecords).map(
      async ([start, end]) => (await pool.decode({ ...base, start, end, partitions })).rows,
    ),
  );
  const t1 = performance.now();
  const table = await assembleReference(ranges, space, index, 10, (task) => pool.merge(task));
  const counts = table.statusCounts();
  const t2 = performance.now();
  return { decodeMs: t1 - t0, reconcileMs: t2 - t1, keys: table.size, counts, table };
}
