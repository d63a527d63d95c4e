/**
 * Our decode + reconcile on one file, as the engine does it: record ranges decoded in the Piscina
 * pool, merged into a HoldingTable on the main thread, reconciled against ledger positions.
 */
import { resolveColumns } from '../core/dbf/columns.js';
import { readDbfLayout, type DbfLayout } from '../core/dbf/layout.js';
import { splitRanges } from '../core/engine.js';
import { HoldingTable } from '../core/holding-table.js';
import { loadPlugin, resolvePluginSpecifier } from '../core/plugin.js';
import { ReconPool } from '../core/pool.js';
import { emptyCounts, reconcileSource, type LedgerPosition, type StatusCounts } from '../core/reconcile.js';

export interface PipelineResult {
  decodeMs: number;
  reconcileMs: number;
  keys: number;
  counts: StatusCounts;
  table: HoldingTable;
}

export async function decodeAndReconcile(file: string, plugin: 'karvy' | 'cams', threads: number, positions: ReadonlyMap<string, LedgerPosition>, rangeRecords = 250_000): Promise<PipelineResult> {
  const pool = new ReconPool(threads);
  try {
    const layout: DbfLayout = await readDbfLayout(file);
    const specifier = resolvePluginSpecifier(plugin, '.');
    const columns = resolveColumns(layout, await loadPlugin(specifier));
    // Warm the threads (module load) outside the measurement, as a daemon's pool would be.
    await pool.decode({ file, headerLength: layout.headerLength, recordLength: layout.recordLength, start: 0, end: 1, columns, encoding: layout.encoding, pluginSpecifier: specifier });
    const t0 = performance.now();
    const table = new HoldingTable();
    await Promise.all(splitRanges(layout.recordCount, threads, rangeRecords).map(async ([start, end]) => {
      const { aggregate } = await pool.decode({ file, headerLength: layout.headerLength, recordLength: layout.recordLength, start, end, columns, encoding: layout.encoding, pluginSpecifier: specifier });
      table.merge(aggregate);
    }));
    const t1 = performance.now();
    const counts = emptyCounts();
    for (const row of reconcileSource({ source: 'BENCH', asOf: '2024-12-24', decimals: 4, holdings: table }, positions, 10)) counts[row.status]++;
    const t2 = performance.now();
    return { decodeMs: t1 - t0, reconcileMs: t2 - t1, keys: table.size, counts, table };
  } finally {
    await pool.close();
  }
}
