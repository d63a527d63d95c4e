/**
 * Our decode + reconcile on one file, as the engine does it: record ranges decoded in the Piscina
 * pool, each merge partition summed and judged in the pool against the ledger index, statuses
 * counted on the main thread.
 */
import { resolveColumns } from '../core/dbf/columns.js';
import { readDbfLayout, type DbfLayout } from '../core/dbf/layout.js';
import { mergePartitions, splitRanges } from '../core/engine.js';
import { assembleTable, type HoldingTable } from '../core/holding-table.js';
import { KeySpace } from '../core/key-space.js';
import { loadPlugin, resolvePluginSpecifier } from '../core/plugin.js';
import type { ReconPool } from '../core/pool.js';
import { indexPositions } from '../core/position-index.js';
import { emptyCounts, type LedgerPosition, type StatusCounts } from '../core/reconcile.js';

export interface PipelineResult {
  /** Wall time until every range was decoded. */
  decodeMs: number;
  /** Wall time from there until every key was merged, judged and counted. */
  reconcileMs: number;
  /** Time spent indexing the ledger positions (the ledger stage's last step, not in the two above). */
  indexMs: number;
  keys: number;
  counts: StatusCounts;
  table: HoldingTable;
}

/** One pass over the file with `pool` (reuse the pool across passes: a daemon's pool is warm). */
export async function decodeAndReconcile(pool: ReconPool, file: string, plugin: 'karvy' | 'cams', positions: ReadonlyMap<string, LedgerPosition>, rangeRecords = 250_000): Promise<PipelineResult> {
  const layout: DbfLayout = await readDbfLayout(file);
  const specifier = resolvePluginSpecifier(plugin, '.');
  const columns = resolveColumns(layout, await loadPlugin(specifier));
  const base = { file, headerLength: layout.headerLength, recordLength: layout.recordLength, columns, encoding: layout.encoding, pluginSpecifier: specifier };
  // The ledger stage's output: the day's positions indexed as numbers (the engine builds it while
  // the pool decodes; here it is built first and timed on its own, so the figures do not mix).
  const space = new KeySpace();
  const partitions = mergePartitions(layout.recordCount, pool.threads);
  const ti = performance.now();
  const index = indexPositions(positions, space, partitions);
  const indexMs = performance.now() - ti;
  const t0 = performance.now();
  const ranges = await Promise.all(splitRanges(layout.recordCount, pool.threads, rangeRecords).map(async ([start, end]) => (await pool.decode({ ...base, start, end, partitions })).rows));
  const t1 = performance.now();
  const table = await assembleTable(ranges, space, index, 10, (task) => pool.merge(task));
  const counts = emptyCounts();
  for (let i = 0; i < table.size; i++) counts[table.statusAt(i)]++;
  const t2 = performance.now();
  return { decodeMs: t1 - t0, reconcileMs: t2 - t1, indexMs, keys: table.size, counts, table };
}
