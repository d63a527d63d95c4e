/** The run summary for people (a table) and for programs (one JSON object). */
import { formatRupees, storedPaise } from './breaks/value.js';
import { STATUSES } from './reconcile.js';
import type { FileRecord, RunSummary } from './store/types.js';
import { textTable } from './text-table.js';

/** What `--json` shows of each file (its as-of day is the source's). */
const FILE_FIELDS = [
  'name',
  'size',
  'sha256',
  'records',
  'deleted',
  'declaredRecords',
  'presentRecords',
  'codePage',
  'evidence',
] as const satisfies readonly (keyof FileRecord)[];

export function summaryJson(run: RunSummary): Record<string, unknown> {
  return {
    status: run.status,
    runId: run.runId,
    startedAt: run.startedAt.toISOString(),
    finishedAt: run.finishedAt?.toISOString() ?? null,
    timezone: run.timezone,
    tolerance: run.tolerance,
    skippedSources: run.skippedSources ?? [],
    sources: Object.fromEntries(
      Object.entries(run.sources).map(([name, s]) => [
        name,
        {
          plugin: s.plugin,
          asOf: s.asOf,
          rows: s.rows,
          deleted: s.deleted,
          keys: s.keys,
          counts: s.counts,
          files: s.files.map((f) => Object.fromEntries(FILE_FIELDS.map((k) => [k, f[k]]))),
        },
      ]),
    ),
    counts: run.counts,
    closedPositions: run.closedPositions,
    values: (run.values ?? []).map((g) => ({
      ...g,
      grossPaise: storedPaise(g.grossPaise),
      netPaise: storedPaise(g.netPaise),
    })),
    immaterial: run.immaterial ?? 0,
    ledger: run.ledger,
    timingsMs: run.timingsMs,
    error: run.error,
  };
}

export function summaryTable(run: RunSummary): string {
  const header = ['source', 'as-of', 'files', 'rows', 'deleted', ...STATUSES];
  const body: string[][] = [];
  for (const [name, s] of Object.entries(run.sources)) {
    body.push([
      name,
      s.asOf ?? '-',
      String(s.files.length),
      String(s.rows),
      String(s.deleted),
      ...STATUSES.map((st) => String(s.counts[st])),
    ]);
  }
  const owned = Object.values(run.sources).reduce((n, s) => n + s.counts.mongo_only, 0);
  const unowned = run.counts.mongo_only - owned;
  if (unowned > 0)
    body.push(['(owner unknown)', '-', '-', '-', '-', '0', '0', '0', String(unowned)]);
  const totals = [
    'total',
    '',
    String(Object.values(run.sources).reduce((n, s) => n + s.files.length, 0)),
    String(Object.values(run.sources).reduce((n, s) => n + s.rows, 0)),
    String(Object.values(run.sources).reduce((n, s) => n + s.deleted, 0)),
    ...STATUSES.map((st) => String(run.counts[st])),
  ];
  const lines = [`run ${run.runId}  ${run.status}`, ''];
  if (run.skippedSources && run.skippedSources.length > 0)
    lines.push(
      `already reconciled, skipped (use --force to redo): ${run.skippedSources.join(', ')}`,
      '',
    );
  // Source and as-of day read left; the counts right.
  lines.push(...textTable([header, ...body, totals], 2));
  lines.push(...fileNotes(run));
  lines.push('', `closed positions (net zero, in no file): ${run.closedPositions}`);
  if (run.values && run.values.length > 0) {
    const gross = run.values.reduce((n, g) => n + g.grossPaise, 0n),
      unvalued = run.values.reduce((n, g) => n + g.unvalued, 0);
    lines.push(
      `value of breaks: Rs ${formatRupees(gross)} at stake${unvalued > 0 ? `, ${unvalued} without NAV` : ''}; ${run.immaterial ?? 0} immaterial`,
    );
  }
  for (const l of run.ledger) {
    const skipped = l.missingKey + l.nonNumericUnits + l.badDate;
    lines.push(
      `ledger as of ${l.asOf} (before ${l.cutoff}): ${l.transactions} transactions, ${l.positions} positions${skipped > 0 ? `, NOT COUNTED: ${l.missingKey} missing key, ${l.nonNumericUnits} non-numeric units, ${l.badDate} bad date` : ''}`,
    );
    const ignored = Object.entries(l.ignoredTypes);
    if (ignored.length > 0)
      lines.push(`  ignored types: ${ignored.map(([t, n]) => `${t} (${n})`).join(', ')}`);
  }
  lines.push(
    '',
    'time per stage (ms): ' +
      Object.entries(run.timingsMs)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
  );
  if (run.error) lines.push('', `error ${run.error.code}: ${run.error.message}`);
  return lines.join('\n') + '\n';
}

/**
 * What a person must know about a file beyond its counts: stale header count, code page fallback,
 * unreadable evidence.
 */
function fileNotes(run: RunSummary): string[] {
  const out: string[] = [];
  for (const [name, s] of Object.entries(run.sources)) {
    for (const f of s.files) {
      if (f.declaredRecords !== f.presentRecords)
        out.push(
          `${name} ${f.name}: header declares ${f.declaredRecords} records, file holds ${f.presentRecords}; read ${f.records}`,
        );
      if (f.codePage.note) out.push(`${name} ${f.name}: ${f.codePage.note}`);
      if (f.evidence.unreadable > 0) {
        const samples = f.evidence.samples
          .map((x) => `record ${x.record} ${x.field} ${x.rawHex}`)
          .join('; ');
        out.push(
          `${name} ${f.name}: ${f.evidence.unreadable} evidence value(s) unreadable, left absent (${samples})`,
        );
      }
    }
  }
  return out.length > 0 ? ['', ...out] : out;
}
