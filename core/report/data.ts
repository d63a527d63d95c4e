/**
 * What a report shows, read from the MongoDB store: one committed run (summary, files, counts,
 * lifecycle), its breaks, and breaks per day over the last 30 committed runs.
 */
import { ReconError } from '../errors.js';
import type { MongoStore } from '../store/mongodb.js';

export interface BreakLine {
  source: string | null;
  status: string;
  lifecycle: string | null;
  age_days: number | null;
  first_seen: string | null;
  product_code: string;
  folio_no: string;
  scheme_name: string | null;
  mongo_units: number | null;
  dbf_units: number | null;
  difference: number;
  reason: string | null;
  as_of_date: string;
}

export interface ReportData {
  runId: string;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  asOf: Record<string, string | null>;
  files: { source: string; name: string; size: number; sha256: string; records: number; deleted: number }[];
  counts: Record<string, Record<string, number>>;
  totals: Record<string, number>;
  lifecycle: { new: number; persisting: number; changed: number; resolved: number };
  resolved: { source: string | null; product_code: string; folio_no: string; status: string; first_seen: string; resolved_on: string }[];
  breaks: BreakLine[];
  history: { runId: string; asOf: string; breaks: number }[];
}

interface StoredRun {
  _id: string;
  status: string;
  started_at: Date;
  finished_at: Date | null;
  coverage?: { source: string | null; as_of_date: string }[];
  sources: Record<string, { as_of_date: string | null; counts: Record<string, number>; files: { name: string; size: number; sha256: string; records: number; deleted: number }[] }>;
  counts: Record<string, number>;
  breaks?: { new: number; persisting: number; changed: number; resolved_count?: number; resolved: ReportData['resolved'] } | null;
}

export async function loadReport(store: MongoStore, select: { runId?: string; asOf?: string }): Promise<ReportData> {
  const runs = await store.runs() as unknown as import('mongodb').Collection<StoredRun>;
  let run: StoredRun | null;
  if (select.runId) {
    run = await runs.findOne({ _id: select.runId });
  } else {
    const filter = select.asOf ? { status: 'committed', 'coverage.as_of_date': select.asOf } : { status: 'committed' };
    run = (await runs.find(filter).sort({ started_at: -1 }).limit(1).toArray())[0] ?? null;
  }
  if (!run) throw new ReconError('RECON_USAGE', select.runId ? `no run ${select.runId}` : select.asOf ? `no committed run for as-of ${select.asOf}` : 'no committed run yet');
  const results = await store.results();
  const rows = await results.find({ reconciliation_run_id: run._id, status: { $ne: 'matched' } }, { projection: { _id: 0 } }).toArray();
  const breaks: BreakLine[] = rows.map((r) => ({
    source: r.source, status: r.status, lifecycle: r.lifecycle ?? null, age_days: r.age_days ?? null, first_seen: r.first_seen ?? null,
    product_code: r.product_code, folio_no: r.folio_no, scheme_name: r.scheme_name, mongo_units: r.mongo_units, dbf_units: r.dbf_units,
    difference: r.difference, reason: r.reason ?? null, as_of_date: r.as_of_date,
  })).sort((a, b) => `${a.source}|${a.status}|${a.product_code}|${a.folio_no}`.localeCompare(`${b.source}|${b.status}|${b.product_code}|${b.folio_no}`));
  const recent = await runs.find({ status: 'committed' }).sort({ started_at: -1 }).limit(30).toArray();
  const history = recent.reverse().map((r) => ({
    runId: r._id,
    asOf: (r.coverage ?? []).map((c) => c.as_of_date).sort().at(-1) ?? '',
    breaks: (r.counts.mismatched ?? 0) + (r.counts.dbf_only ?? 0) + (r.counts.mongo_only ?? 0),
  }));
  const counts: ReportData['counts'] = {};
  const files: ReportData['files'] = [];
  const asOf: ReportData['asOf'] = {};
  for (const [name, s] of Object.entries(run.sources ?? {})) {
    counts[name] = s.counts;
    asOf[name] = s.as_of_date;
    for (const f of s.files) files.push({ source: name, name: f.name, size: f.size, sha256: f.sha256, records: f.records, deleted: f.deleted });
  }
  const ownerless = breaks.filter((b) => b.source === null).length;
  if (ownerless > 0) counts['(owner unknown)'] = { matched: 0, mismatched: 0, dbf_only: 0, mongo_only: ownerless };
  return {
    runId: run._id, status: run.status, startedAt: run.started_at.toISOString(), finishedAt: run.finished_at?.toISOString() ?? null,
    asOf, files, counts, totals: run.counts,
    lifecycle: { new: run.breaks?.new ?? 0, persisting: run.breaks?.persisting ?? 0, changed: run.breaks?.changed ?? 0, resolved: run.breaks?.resolved_count ?? run.breaks?.resolved.length ?? 0 },
    resolved: run.breaks?.resolved ?? [], breaks, history,
  };
}
