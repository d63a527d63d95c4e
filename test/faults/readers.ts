/**
 * What a reader sees: for a (source, as-of day), the latest committed run (started_at, then id) and
 * its rows.
 */
import type { Db } from 'mongodb';

export async function visibleRun(
  db: Db,
  source: string | null,
  asOf: string,
): Promise<{ runId: string; rows: number; counts: Record<string, number> } | null> {
  const runs = await db
    .collection<{
      _id: string;
      status: string;
      started_at: Date;
      coverage: { source: string | null; as_of_date: string }[];
      sources: Record<string, { counts: Record<string, number> }>;
    }>('reconciliation_runs')
    .find({ status: 'committed' })
    .toArray();
  const covering = runs
    .filter((r) => (r.coverage ?? []).some((c) => c.source === source && c.as_of_date === asOf))
    .sort((a, b) => b.started_at.getTime() - a.started_at.getTime() || (a._id < b._id ? 1 : -1));
  if (covering.length === 0) return null;
  const run = covering[0];
  const rows = await db
    .collection('reconciliation_results')
    .countDocuments({ reconciliation_run_id: run._id, source, as_of_date: asOf });
  return {
    runId: run._id,
    rows,
    counts: source === null ? {} : (run.sources[source]?.counts ?? {}),
  };
}

/** Every row stored for a (source, as-of day), whatever run wrote it. */
export async function storedRows(db: Db, source: string | null, asOf: string): Promise<number> {
  return db.collection('reconciliation_results').countDocuments({ source, as_of_date: asOf });
}
