/**
 * What a report shows, read from either store: one committed run (summary, files, counts,
 * lifecycle, value totals), its breaks with their value and the notes that follow them, and breaks
 * and value per as-of day over the recent committed runs. The breaks are read with a cursor and
 * kept sorted on disk past one run of rows (`SortedRows`), so a report of millions of breaks
 * streams.
 */
import { breakId } from '../breaks/lifecycle.js';
import { deskViews, type DeskView } from '../breaks/notes.js';
import { storedPaise, type StoredPaise } from '../breaks/value.js';
import { ReconError } from '../errors.js';
import type { ResultDocument, RunDocument } from '../store/documents.js';
import type { ResultReader } from '../store/reader.js';
import { SortedRows } from './sorted-rows.js';

export interface BreakLine extends DeskView {
  source: string | null;
  status: string;
  lifecycle: string | null;
  reopened_after: string | null;
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
  nav: number | null;
  nav_source: string | null;
  /** Rupees (exact to the paisa) and the same as integer paise, which is what totals add. */
  value: number | null;
  value_paise: number | null;
  immaterial: boolean;
}

export interface DayPoint {
  asOf: string;
  breaks: number;
  /** Sum of the breaks' absolute values, paise (exact: a number, or decimal text past 2^53). */
  grossPaise: StoredPaise;
}

export interface ReportData<B extends BreakRows = BreakRows> {
  runId: string;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  asOf: Record<string, string | null>;
  files: {
    source: string;
    name: string;
    size: number;
    sha256: string;
    records: number;
    deleted: number;
  }[];
  counts: Record<string, Record<string, number>>;
  totals: Record<string, number>;
  lifecycle: {
    new: number;
    persisting: number;
    changed: number;
    reopened: number;
    resolved: number;
  };
  resolved: NonNullable<RunDocument['breaks']>['resolved'];
  /** Value per (source, status, reason), integer paise. */
  values: RunDocument['values'];
  immaterial: number;
  /** Largest value first (`byValue`): an array, or rows streamed in that order. */
  breaks: B;
  history: DayPoint[];
}

export type BreakRows = readonly BreakLine[] | SortedRows<BreakLine>;

/** Lets go of what the report's breaks hold on disk; the data is not read after this. */
export async function closeReport(data: ReportData): Promise<void> {
  if (data.breaks instanceof SortedRows) await data.breaks.close();
}

/** Largest absolute value first; breaks with no value after every valued one. */
export function byValue(a: BreakLine, b: BreakLine): number {
  const x = a.value_paise === null ? -1 : Math.abs(a.value_paise),
    y = b.value_paise === null ? -1 : Math.abs(b.value_paise);
  return (
    y - x ||
    `${a.source}|${a.product_code}|${a.folio_no}`.localeCompare(
      `${b.source}|${b.product_code}|${b.folio_no}`,
    )
  );
}

export function breakLine(r: ResultDocument, desk: DeskView | undefined): BreakLine {
  return {
    source: r.source,
    status: r.status,
    lifecycle: r.lifecycle ?? null,
    reopened_after: r.reopened_after ?? null,
    age_days: r.age_days ?? null,
    first_seen: r.first_seen ?? null,
    product_code: r.product_code,
    folio_no: r.folio_no,
    scheme_name: r.scheme_name,
    mongo_units: r.mongo_units,
    dbf_units: r.dbf_units,
    difference: r.difference,
    reason: r.reason ?? null,
    as_of_date: r.as_of_date,
    nav: r.nav ?? null,
    nav_source: r.nav_source ?? null,
    value: r.value ?? null,
    value_paise: r.value === null || r.value === undefined ? null : Math.round(r.value * 100),
    immaterial: r.immaterial === true,
    note: desk?.note ?? null,
    note_at: desk?.note_at ?? null,
    note_author: desk?.note_author ?? null,
    owner: desk?.owner ?? null,
    state: desk?.state ?? null,
    notes: desk?.notes ?? 0,
  };
}

export async function loadReport(
  reader: ResultReader,
  select: { runId?: string; asOf?: string },
  runRows?: number,
): Promise<ReportData> {
  const run = await reader.committedRun(select);
  if (!run)
    throw new ReconError(
      'RECON_USAGE',
      select.runId
        ? `no run ${select.runId}`
        : select.asOf
          ? `no committed run for as-of ${select.asOf}`
          : 'no committed run yet',
    );
  const desk = deskViews(await reader.notes());
  let ownerless = 0;
  const runId = run._id;
  async function* lines(): AsyncGenerator<BreakLine> {
    for await (const r of reader.breakRows(runId)) {
      if (r.source === null) ownerless++;
      yield breakLine(r, desk.get(breakId(r.source, r.product_code, r.folio_no)));
    }
  }
  const breaks = await SortedRows.from(lines(), byValue, runRows);
  let history: DayPoint[];
  try {
    history = perDay(await reader.recentCommitted(60)).slice(-30);
  } catch (err) {
    await breaks.close();
    throw err;
  }
  const counts: ReportData['counts'] = {};
  const files: ReportData['files'] = [];
  const asOf: ReportData['asOf'] = {};
  for (const [name, raw] of Object.entries(run.sources ?? {})) {
    const s = raw as {
      as_of_date: string | null;
      counts: Record<string, number>;
      files: { name: string; size: number; sha256: string; records: number; deleted: number }[];
    };
    counts[name] = s.counts;
    asOf[name] = s.as_of_date;
    for (const f of s.files)
      files.push({
        source: name,
        name: f.name,
        size: f.size,
        sha256: f.sha256,
        records: f.records,
        deleted: f.deleted,
      });
  }
  if (ownerless > 0)
    counts['(owner unknown)'] = { matched: 0, mismatched: 0, dbf_only: 0, mongo_only: ownerless };
  const b = run.breaks;
  return {
    runId: run._id,
    status: run.status,
    startedAt: run.started_at.toISOString(),
    finishedAt: run.finished_at?.toISOString() ?? null,
    asOf,
    files,
    counts,
    totals: run.counts,
    lifecycle: {
      new: b?.new ?? 0,
      persisting: b?.persisting ?? 0,
      changed: b?.changed ?? 0,
      reopened: b?.reopened ?? 0,
      resolved: b?.resolved_count ?? b?.resolved.length ?? 0,
    },
    resolved: b?.resolved ?? [],
    values: run.values ?? [],
    immaterial: run.immaterial ?? 0,
    breaks,
    history,
  };
}

/**
 * Breaks and value per as-of day: for each (source, day) the latest committed run that covers it,
 * so a rerun of a day replaces that day's point instead of adding one.
 */
export function perDay(runs: readonly RunDocument[]): DayPoint[] {
  const latest = new Map<string, RunDocument>();
  for (const r of runs) {
    for (const c of r.coverage ?? []) {
      const id = JSON.stringify([c.source, c.as_of_date]);
      const had = latest.get(id);
      if (!had || had.started_at.getTime() < r.started_at.getTime()) latest.set(id, r);
    }
  }
  const days = new Map<string, { asOf: string; breaks: number; gross: bigint }>();
  for (const [id, r] of latest) {
    const [source, day] = JSON.parse(id) as [string | null, string];
    const p = days.get(day) ?? { asOf: day, breaks: 0, gross: 0n };
    for (const g of r.values ?? []) {
      if (g.source !== source) continue;
      p.breaks += g.breaks;
      p.gross += BigInt(g.gross_paise);
    }
    if (!r.values && source !== null) {
      const c =
        (r.sources?.[source] as { counts?: Record<string, number> } | undefined)?.counts ?? {};
      p.breaks += (c.mismatched ?? 0) + (c.dbf_only ?? 0) + (c.mongo_only ?? 0);
    }
    days.set(day, p);
  }
  return [...days.values()]
    .sort((a, b) => a.asOf.localeCompare(b.asOf))
    .map((p) => ({ asOf: p.asOf, breaks: p.breaks, grossPaise: storedPaise(p.gross) }));
}
