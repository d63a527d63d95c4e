/** The people-facing listings behind `recon runs`, `recon breaks` and `recon breaks history`. */
import { formatRupees } from '../breaks/value.js';
import type { BreakNote } from '../breaks/notes.js';
import { STATUSES } from '../reconcile.js';
import type { BreakIdentity, ResultReader } from '../store/reader.js';
import { textTable, type Cell } from '../text-table.js';
import { breakLine, closeReport, loadReport, type BreakLine } from './data.js';

export interface RunLine {
  runId: string;
  status: string;
  asOf: string;
  startedAt: string;
  durationMs: number | null;
  counts: Record<string, number>;
  error: string | null;
}

export async function recentRuns(reader: ResultReader, limit: number): Promise<RunLine[]> {
  const runs = await reader.runs(limit);
  return runs.map((r) => ({
    runId: r._id,
    status: r.status,
    asOf:
      Object.values(r.sources ?? {})
        .map((s) => (s as { as_of_date: string | null }).as_of_date)
        .filter(Boolean)
        .sort()
        .join(' ') || '-',
    startedAt: r.started_at.toISOString(),
    durationMs: r.finished_at ? r.finished_at.getTime() - r.started_at.getTime() : null,
    counts: r.counts,
    error: (r.error as { code?: string } | null)?.code ?? null,
  }));
}

export interface BreakFilter {
  source?: string;
  status?: string;
  minAge?: number;
  owner?: string;
  state?: string;
  /** Rupees: breaks whose absolute value is at least this (unvalued breaks are left out). */
  minValue?: number;
}

/** Breaks of the latest committed run, filtered, largest value first. */
export async function currentBreaks(
  reader: ResultReader,
  filter: BreakFilter,
): Promise<BreakLine[]> {
  const data = await loadReport(reader, {});
  const minPaise = filter.minValue === undefined ? undefined : Math.round(filter.minValue * 100);
  const wanted = (b: BreakLine) =>
    (filter.source === undefined ||
      (b.source ?? '').toUpperCase() === filter.source.toUpperCase()) &&
    (filter.status === undefined || b.status === filter.status) &&
    (filter.minAge === undefined || (b.age_days ?? 0) >= filter.minAge) &&
    (filter.owner === undefined || (b.owner ?? '').toLowerCase() === filter.owner.toLowerCase()) &&
    (filter.state === undefined || (b.state ?? 'open') === filter.state) &&
    (minPaise === undefined || (b.value_paise !== null && Math.abs(b.value_paise) >= minPaise));
  const out: BreakLine[] = [];
  try {
    for await (const b of data.breaks) if (wanted(b)) out.push(b);
  } finally {
    await closeReport(data);
  }
  return out;
}

function table(header: string[], rows: Cell[][]): string {
  return textTable([header, ...rows]).join('\n') + '\n';
}

export function runsTable(runs: RunLine[]): string {
  return table(
    ['run', 'status', 'as-of', 'started', 'seconds', ...STATUSES, 'error'],
    runs.map((r) => [
      r.runId,
      r.status,
      r.asOf,
      r.startedAt,
      r.durationMs === null ? null : (r.durationMs / 1000).toFixed(1),
      ...STATUSES.map((s) => r.counts?.[s] ?? 0),
      r.error,
    ]),
  );
}

const rupees = (paise: number | null) => (paise === null ? 'no NAV' : formatRupees(paise));

export function breaksTable(breaks: BreakLine[]): string {
  return table(
    [
      'source',
      'status',
      'lifecycle',
      'age',
      'product',
      'folio',
      'ledger',
      'file',
      'difference',
      'value (Rs)',
      'reason',
      'owner',
      'state',
      'note',
    ],
    breaks.map((b) => [
      b.source ?? '-',
      b.status,
      b.lifecycle,
      b.age_days,
      b.product_code,
      b.folio_no,
      b.mongo_units,
      b.dbf_units,
      b.difference,
      rupees(b.value_paise) + (b.immaterial ? ' (immaterial)' : ''),
      b.reason,
      b.owner,
      b.state,
      b.note,
    ]),
  );
}

/** What a break's history shows of each day it was a break. */
const DAY_FIELDS = [
  'as_of_date',
  'status',
  'lifecycle',
  'difference',
  'nav',
  'value',
  'reason',
] as const satisfies readonly (keyof BreakLine)[];

export interface BreakHistory {
  days: Pick<BreakLine, (typeof DAY_FIELDS)[number]>[];
  /** Days a run found it resolved. */
  resolved: string[];
  notes: BreakNote[];
}

export async function breakHistory(reader: ResultReader, id: BreakIdentity): Promise<BreakHistory> {
  const days = (await reader.breakDays(id)).map((r) => {
    const line = breakLine(r, undefined);
    return Object.fromEntries(DAY_FIELDS.map((f) => [f, line[f]])) as BreakHistory['days'][number];
  });
  return { days, resolved: await reader.resolvedDays(id), notes: await reader.notes(id) };
}

export function historyText(h: BreakHistory): string {
  const rows: Cell[][] = h.days.map((d) => [
    d.as_of_date,
    d.status,
    d.lifecycle,
    d.difference,
    d.nav,
    d.value === null ? 'no NAV' : formatRupees(Math.round(d.value * 100)),
    d.reason,
  ]);
  for (const day of h.resolved) rows.push([day, 'resolved', null, null, null, null, null]);
  rows.sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  const days = table(
    ['as-of', 'status', 'lifecycle', 'difference', 'nav', 'value (Rs)', 'reason'],
    rows,
  );
  const notes = h.notes.map(
    (n) =>
      `${n.at.toISOString()}  ${n.author}${n.owner ? `  owner=${n.owner}` : ''}${n.state ? `  state=${n.state}` : ''}  ${n.text}`,
  );
  return `${h.days.length === 0 ? 'no day on which this was a break\n' : days}\nnotes:\n${notes.length === 0 ? '(none)\n' : notes.join('\n') + '\n'}`;
}
