/** The people-facing listings behind `recon runs` and `recon breaks`. */
import { STATUSES } from '../reconcile.js';
import type { MongoStore } from '../store/mongodb.js';
import { loadReport, type BreakLine } from './data.js';

export interface RunLine {
  runId: string;
  status: string;
  asOf: string;
  startedAt: string;
  durationMs: number | null;
  counts: Record<string, number>;
  error: string | null;
}

export async function recentRuns(store: MongoStore, limit: number): Promise<RunLine[]> {
  const runs = await (await store.runs()).find({}).sort({ started_at: -1 }).limit(limit).toArray();
  return runs.map((r) => ({
    runId: r._id, status: r.status,
    asOf: Object.values(r.sources ?? {}).map((s) => (s as { as_of_date: string | null }).as_of_date).filter(Boolean).sort().join(' ') || '-',
    startedAt: r.started_at.toISOString(), durationMs: r.finished_at ? r.finished_at.getTime() - r.started_at.getTime() : null,
    counts: r.counts, error: (r.error as { code?: string } | null)?.code ?? null,
  }));
}

export async function currentBreaks(store: MongoStore, filter: { source?: string; status?: string; minAge?: number }): Promise<BreakLine[]> {
  const data = await loadReport(store, {});
  return data.breaks.filter((b) => (filter.source === undefined || (b.source ?? '').toUpperCase() === filter.source.toUpperCase())
    && (filter.status === undefined || b.status === filter.status)
    && (filter.minAge === undefined || (b.age_days ?? 0) >= filter.minAge));
}

export function table(header: string[], rows: (string | number | null)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (c === null ? '' : String(c))))];
  const w = header.map((_, i) => cells.reduce((m, r) => Math.max(m, r[i].length), 0));
  return cells.map((r) => r.map((c, i) => c.padEnd(w[i])).join('  ').trimEnd()).join('\n') + '\n';
}

export function runsTable(runs: RunLine[]): string {
  return table(['run', 'status', 'as-of', 'started', 'seconds', ...STATUSES, 'error'],
    runs.map((r) => [r.runId, r.status, r.asOf, r.startedAt, r.durationMs === null ? null : (r.durationMs / 1000).toFixed(1), ...STATUSES.map((s) => r.counts?.[s] ?? 0), r.error]));
}

export function breaksTable(breaks: BreakLine[]): string {
  return table(['source', 'status', 'lifecycle', 'age', 'product', 'folio', 'ledger', 'file', 'difference', 'reason'],
    breaks.map((b) => [b.source ?? '-', b.status, b.lifecycle, b.age_days, b.product_code, b.folio_no, b.mongo_units, b.dbf_units, b.difference, b.reason]));
}
