/**
 * `recon inspect FILE`: what an operator needs when a run rejected a file. The file is opened and
 * decoded by the same code a run uses (layout, column resolution, the hot loop in this thread), and
 * every problem it would raise is listed with its code instead of stopping at the first: the
 * header, the record count, the columns the source's plugin takes for each role, then the data.
 */
import { basename } from 'node:path';
import type { LoadedConfig } from '../config/loaded.js';
import type { SourceConfig } from '../config/schema.js';
import { driverLabel } from './dbf/code-pages.js';
import { resolveColumns, type ResolvedColumns } from './dbf/columns.js';
import { hexByte } from './dbf/header.js';
import { readDbfLayout, type DbfLayout } from './dbf/layout.js';
import { decodeRange, EVIDENCE_SAMPLES, rangeTask, type EvidenceProblems } from './dbf/decoder.js';
import { readRecords, type FieldValue } from './dbf/records.js';
import { asReconError, exitCodeFor, ReconError, type SerializedError } from './errors.js';
import { patternMatcher } from './fetch/names.js';
import {
  loadPlugin,
  pluginLabel,
  resolvePluginSpecifier,
  type Role,
  type SourcePlugin,
} from './plugin.js';

export interface InspectReport {
  file: string;
  size?: number;
  version?: string;
  versionName?: string;
  codePage?: {
    encoding: string;
    origin: string;
    languageDriver: string;
    driverLabel: string | null;
    note: string | null;
  };
  headerLength?: number;
  recordLength?: number;
  declaredRecords?: number;
  presentRecords?: number;
  fields?: { name: string; type: string; size: number; decimals: number; offset: number }[];
  source: string | null;
  plugin: string | null;
  /** Role → the column the plugin takes for it (null: the file has none). */
  roles?: Partial<Record<Role, string | null>>;
  /** The first rows, each value as the engine decodes it. */
  rows?: { record: number; deleted: boolean; values: Record<string, FieldValue> }[];
  /** Live rows and deleted records decoded (records in error left out). */
  rowsRead?: number;
  deleted?: number;
  asOf?: string | null;
  evidence?: EvidenceProblems;
  /** Everything a run would refuse, each with its error code. */
  problems: SerializedError[];
  /** Worth knowing, not refused (e.g. a code page fallback). */
  notes: string[];
}

export interface InspectOptions {
  file: string;
  loaded: LoadedConfig | null;
  source?: string;
  rows: number;
}

export async function inspectFile(options: InspectOptions): Promise<InspectReport> {
  const name = basename(options.file);
  const src = pickSource(options);
  const report: InspectReport = {
    file: name,
    source: src?.name ?? null,
    plugin: src ? pluginLabel(src.plugin) : null,
    problems: [],
    notes: [],
  };
  const problem = (err: unknown) => report.problems.push(asReconError(err).toJSON());
  let plugin: SourcePlugin | undefined;
  if (src && options.loaded) {
    try {
      plugin = await loadPlugin(resolvePluginSpecifier(src.plugin, options.loaded.baseDir));
    } catch (err) {
      problem(err);
    }
  }
  const encoding = src?.encoding;
  let layout: DbfLayout;
  try {
    layout = await readDbfLayout(options.file, { encoding, recordCount: src?.recordCount });
  } catch (err) {
    const e = asReconError(err);
    if (e.code !== 'RECON_DBF_COUNT') {
      problem(e);
      return report;
    }
    // A stale count: say so, and look at the records present.
    problem(e);
    layout = await readDbfLayout(options.file, { encoding, recordCount: 'present' });
  }
  Object.assign(report, {
    size: layout.size,
    version: hexByte(layout.version),
    versionName: layout.versionName,
    codePage: {
      encoding: layout.encoding,
      origin: layout.encodingOrigin,
      languageDriver: hexByte(layout.languageDriver),
      driverLabel: driverLabel(layout.languageDriver) ?? null,
      note: layout.encodingNote ?? null,
    },
    headerLength: layout.headerLength,
    recordLength: layout.recordLength,
    declaredRecords: layout.declaredRecords,
    presentRecords: layout.presentRecords,
    fields: layout.fields,
  });
  if (layout.encodingNote) report.notes.push(layout.encodingNote);
  let columns: ResolvedColumns | undefined;
  if (plugin) {
    report.roles = rolesOf(layout, plugin, src?.columns ?? {});
    try {
      columns = resolveColumns(layout, plugin, src?.columns ?? {});
    } catch (err) {
      problem(err);
    }
  }
  const shown = columns
    ? Object.values(columns).filter((f, i, all) => all.indexOf(f) === i)
    : layout.fields;
  const index = shown.map((f) => layout.fields.findIndex((x) => x.offset === f.offset));
  report.rows = readRecords(layout, 0, options.rows).map((r) => ({
    record: r.record,
    deleted: r.deleted,
    values: Object.fromEntries(shown.map((f, i) => [f.name, r.values[index[i]]])),
  }));
  if (columns && plugin) decodeAll(layout, columns, plugin, options.file, report, problem);
  return report;
}

const MAX_PROBLEMS = 20;

/**
 * Decodes every record as a run would; after a bad record, goes on from the next one to find the
 * rest.
 */
function decodeAll(
  layout: DbfLayout,
  columns: ResolvedColumns,
  plugin: SourcePlugin,
  file: string,
  report: InspectReport,
  problem: (err: unknown) => void,
): void {
  const evidence: EvidenceProblems = { unreadable: 0, samples: [] };
  report.rowsRead = 0;
  report.deleted = 0;
  const decode = (start: number, end: number) => {
    const rows = decodeRange(rangeTask(file, layout, columns, { start, end }), plugin);
    report.rowsRead! += rows.pid.length;
    report.deleted! += rows.deleted;
    report.asOf ??= rows.asOf;
    evidence.unreadable += rows.evidence.unreadable;
    evidence.samples.push(
      ...rows.evidence.samples.slice(0, EVIDENCE_SAMPLES - evidence.samples.length),
    );
  };
  for (let start = 0; start < layout.recordCount;) {
    try {
      decode(start, layout.recordCount);
      break;
    } catch (err) {
      const e = asReconError(err);
      problem(e);
      const record = e.context.record;
      if (typeof record !== 'number' || record <= start || report.problems.length >= MAX_PROBLEMS)
        break;
      try {
        if (record - 1 > start) decode(start, record - 1);
      } catch {
        break;
      }
      start = record;
    }
  }
  report.evidence = evidence;
  if (evidence.unreadable > 0)
    report.notes.push(
      `${evidence.unreadable} evidence value(s) unreadable; a run leaves them absent and reports them`,
    );
}

/** The exit status `recon run` would have for the first problem, or 0. */
export function inspectExitCode(report: InspectReport): number {
  return report.problems.length === 0 ? 0 : exitCodeFor(report.problems[0].code);
}

function pickSource(options: InspectOptions): SourceConfig | undefined {
  const sources = options.loaded?.config.sources ?? [];
  if (options.source !== undefined) {
    const s = sources.find((x) => x.name.toUpperCase() === options.source!.toUpperCase());
    if (!s)
      throw new ReconError(
        'RECON_USAGE',
        `unknown source ${options.source}; configured: ${sources.map((x) => x.name).join(', ') || '(no config found)'}`,
      );
    return s;
  }
  // The source whose file pattern takes this name, when exactly one does.
  const name = basename(options.file);
  const matching = sources.filter((s) => patternMatcher(s.fetch.pattern)(name));
  return matching.length === 1 ? matching[0] : undefined;
}

function rolesOf(
  layout: DbfLayout,
  plugin: SourcePlugin,
  overrides: Partial<Record<Role, string>>,
): Partial<Record<Role, string | null>> {
  const byName = new Map(layout.fields.map((f) => [f.name.toUpperCase(), f.name]));
  const out: Partial<Record<Role, string | null>> = {};
  for (const [role, spec] of Object.entries(plugin.columns) as [
    Role,
    { name: string; aliases?: string[] },
  ][]) {
    const candidates =
      overrides[role] !== undefined ? [overrides[role]!] : [spec.name, ...(spec.aliases ?? [])];
    out[role] =
      candidates.map((c) => byName.get(c.toUpperCase())).find((n) => n !== undefined) ?? null;
  }
  return out;
}

/** The report for people. */
export function inspectText(r: InspectReport): string {
  const lines: string[] = [
    `file       ${r.file}${r.size !== undefined ? `  (${r.size} bytes)` : ''}`,
  ];
  if (r.version !== undefined) {
    const cp = r.codePage!;
    lines.push(
      `version    ${r.version} ${r.versionName}`,
      `code page  ${cp.encoding} (${cp.origin === 'config' ? 'from config' : cp.origin === 'language-driver' ? `language driver ${cp.languageDriver}${cp.driverLabel ? ` ${cp.driverLabel}` : ''}` : `fallback; language driver ${cp.languageDriver}`})`,
      `records    ${r.declaredRecords} declared, ${r.presentRecords} present (header ${r.headerLength} bytes, records of ${r.recordLength})`,
      `fields     ${r.fields!.map((f) => `${f.name} ${f.type}(${f.size}${f.decimals ? `,${f.decimals}` : ''})`).join('  ')}`,
    );
  }
  lines.push(
    `source     ${r.source === null ? '(none: give --source, or a config whose file pattern matches)' : `${r.source}, plugin ${r.plugin}`}`,
  );
  if (r.roles)
    lines.push(
      'roles      ' +
        Object.entries(r.roles)
          .map(([role, col]) => `${role}=${col ?? '(missing)'}`)
          .join('  '),
    );
  if (r.rows && r.rows.length > 0) {
    lines.push('', `first ${r.rows.length} record(s), as decoded:`);
    for (const row of r.rows) {
      lines.push(
        `  #${row.record}${row.deleted ? ' (deleted)' : ''}  ` +
          Object.entries(row.values)
            .map(([k, v]) => `${k}=${showValue(v)}`)
            .join('  '),
      );
    }
  }
  if (r.rowsRead !== undefined)
    lines.push(
      '',
      `decoded    ${r.rowsRead} live rows, ${r.deleted} deleted${r.problems.length > 0 ? ' (records in error left out)' : ''}, as of ${r.asOf ?? '(no live record)'}`,
    );
  for (const n of r.notes) lines.push(`note       ${n}`);
  if (r.evidence && r.evidence.samples.length > 0) {
    for (const s of r.evidence.samples)
      lines.push(`           record ${s.record} ${s.field} bytes ${s.rawHex}`);
  }
  lines.push(
    '',
    r.problems.length === 0
      ? 'problems   none: a run would accept this file'
      : `problems   ${r.problems.length}`,
  );
  for (const p of r.problems) lines.push(`  ${p.code}: ${p.message}`);
  return lines.join('\n') + '\n';
}

function showValue(v: FieldValue): string {
  if (v === null) return '(blank)';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'boolean') return String(v);
  if ('number' in v) return v.number;
  if ('date' in v) return v.date;
  if ('unreadable' in v) return `UNREADABLE(${v.rawHex})`;
  return `(${v.notRead}, not read)`;
}
