/**
 * Stage 1, plan: fetch each selected source's files, skip the sources a committed run with the same
 * configuration already reconciled, open every file's header, resolve the plugin's columns, and
 * read each file's as-of day from its first live record. A source's files must share one day.
 */
import { stat } from 'node:fs/promises';
import { resolvePath } from '../../config/loaded.js';
import type { SourceConfig } from '../../config/schema.js';
import { resolveColumns, type ResolvedColumns } from '../dbf/columns.js';
import { asOfFormats, notADate, parseAsOfDate } from '../dbf/date-formats.js';
import type { FileDay } from '../dbf/decoder.js';
import { hexByte } from '../dbf/header.js';
import { readDbfLayout, type DbfLayout } from '../dbf/layout.js';
import { peekFirstLive } from '../dbf/peek.js';
import { fetchError, ReconError } from '../errors.js';
import { fetchSource, type SourceFile } from '../fetch/index.js';
import { changeOf, identityOf, type FileIdentity } from '../file-identity.js';
import type { RunStaging } from '../fetch/staging.js';
import type { Logger } from '../logger.js';
import { loadPlugin, pluginLabel, resolvePluginSpecifier, type SourcePlugin } from '../plugin.js';
import { emptyCounts } from '../reconcile.js';
import type { FileRecord, SourceSummary } from '../store/types.js';
import type { RunContext } from './context.js';

export interface FilePlan {
  source: string;
  fetched: SourceFile;
  /** The file as the run first saw it, before anything read it. */
  identity: FileIdentity;
  layout: DbfLayout;
  columns: ResolvedColumns;
  /** The as-of day of the first live record; null when every record is deleted. */
  asOf: FileDay | null;
  /** The run document's entry for this file, filled in by decode. */
  record: FileRecord;
}

export interface SourcePlan {
  config: SourceConfig;
  plugin: SourcePlugin;
  specifier: string;
  files: FilePlan[];
  asOf: string;
  /** Decimals the source's units carry (documents round to these). */
  decimals: number;
  /** The run document's entry for this source, filled in by decode and explain. */
  summary: SourceSummary;
}

export interface PlanOptions {
  staging: RunStaging;
  /** Reconcile files even when a committed run with the same config already did. */
  force: boolean;
}

/**
 * The plan of every selected source that has something new; each is entered in the run document as
 * it is planned, and the skipped ones are taken out of the run's coverage.
 */
export async function planRun(
  ctx: RunContext,
  selected: readonly SourceConfig[],
  options: PlanOptions,
): Promise<SourcePlan[]> {
  const plans: SourcePlan[] = [];
  const skipped: string[] = [];
  const fetchedBySource: SourceFile[][] = [];
  for (const src of selected) fetchedBySource.push(await fetchFiles(ctx, src, options.staging));
  const identities = new Map<string, FileIdentity>();
  for (const f of fetchedBySource.flat()) identities.set(f.path, await fileIdentity(f.path));
  // Every file not hashed on the way in, at once on the pool's threads.
  await Promise.all(
    fetchedBySource.flat().map(async (f) => (f.sha256 ??= await ctx.pool.sha256(f.path))),
  );
  for (const [s, src] of selected.entries()) {
    const fetched = fetchedBySource[s];
    if (!options.force && (await alreadyReconciled(ctx, fetched))) {
      ctx.log.info(
        { source: src.name, files: fetched.map((f) => f.name) },
        'already reconciled by a committed run with the same config; skipping (use --force to redo)',
      );
      skipped.push(src.name);
      continue;
    }
    const plan = await planSource(ctx.log, src, fetched, ctx.baseDir, identities);
    plans.push(plan);
    ctx.run.sources[src.name] = plan.summary;
  }
  if (skipped.length > 0) {
    ctx.run.skippedSources = skipped;
    ctx.run.sourceNames = ctx.run.sourceNames.filter((n) => !skipped.includes(n));
    ctx.run.allSources = false;
  }
  return plans;
}

/** The source's files (hashed when the transport hashed them); RECON_NO_FILES when none matches. */
async function fetchFiles(
  ctx: RunContext,
  src: SourceConfig,
  staging: RunStaging,
): Promise<SourceFile[]> {
  const fetched = await fetchSource(src, ctx.baseDir, ctx.log, staging, ctx.signal);
  if (fetched.length === 0) {
    const where =
      src.fetch.type === 'local'
        ? resolvePath(ctx.baseDir, src.fetch.dir)
        : `${src.fetch.host}:${src.fetch.remoteDir}`;
    throw new ReconError(
      'RECON_NO_FILES',
      `source ${src.name}: no file in ${where} matches ${src.fetch.pattern}`,
      { source: src.name },
    );
  }
  return fetched;
}

async function alreadyReconciled(ctx: RunContext, fetched: SourceFile[]): Promise<boolean> {
  const done = await ctx.store.committedFileHashes(
    ctx.run.configHash,
    fetched.map((f) => f.sha256!),
  );
  return fetched.every((f) => done.has(f.sha256!));
}

async function planSource(
  log: Logger,
  src: SourceConfig,
  fetched: SourceFile[],
  baseDir: string,
  identities: ReadonlyMap<string, FileIdentity>,
): Promise<SourcePlan> {
  const specifier = resolvePluginSpecifier(src.plugin, baseDir);
  const plugin = await loadPlugin(specifier);
  const files: FilePlan[] = [];
  for (const f of fetched) files.push(await openFile(log, src, plugin, f, identities.get(f.path)!));
  const asOf = sourceDay(src, files);
  const decimals = Math.max(
    ...files.map((f) => (f.columns.units.type === 'C' ? 4 : Math.min(4, f.columns.units.decimals))),
  );
  const summary: SourceSummary = {
    plugin: pluginLabel(src.plugin),
    asOf,
    files: files.map((f) => f.record),
    rows: 0,
    deleted: 0,
    keys: 0,
    counts: emptyCounts(),
  };
  return { config: src, plugin, specifier, files, asOf, decimals, summary };
}

/** One file's header, columns and as-of day. */
async function openFile(
  log: Logger,
  src: SourceConfig,
  plugin: SourcePlugin,
  f: SourceFile,
  identity: FileIdentity,
): Promise<FilePlan> {
  const layout = await readDbfLayout(f.path, {
    encoding: src.encoding,
    recordCount: src.recordCount,
  });
  const columns = resolveColumns(layout, plugin, src.columns ?? {});
  const asOf = fileDay(layout, columns, plugin, f.name, src.name);
  const record = fileRecord(f, layout, asOf?.day ?? null);
  log.info(
    {
      source: src.name,
      file: f.name,
      records: layout.recordCount,
      bytes: layout.size,
      asOf: asOf?.day ?? null,
      encoding: layout.encoding,
      encodingOrigin: layout.encodingOrigin,
    },
    'file opened',
  );
  warnLayout(log, src.name, f.name, layout);
  return { source: src.name, fetched: f, identity, layout, columns, asOf, record };
}

async function fileIdentity(path: string): Promise<FileIdentity> {
  try {
    return identityOf(await stat(path));
  } catch (err) {
    throw fetchError('read', path, err);
  }
}

/**
 * Fails when a file changed after the run first saw it: another file renamed over its path (a
 * mirror or copy job delivering a new version) or the file written to. Its hash, header and
 * records could then come from different versions, and the hash recorded with the results could
 * make a later run skip a version nobody reconciled. Called once every file is decoded.
 */
export async function checkFilesUnchanged(plans: readonly SourcePlan[]): Promise<void> {
  for (const plan of plans)
    for (const f of plan.files) {
      const now = await fileIdentity(f.fetched.path).catch(() => null);
      const change = now === null ? 'gone' : changeOf(f.identity, now);
      if (change === null) continue;
      const how =
        change === 'gone'
          ? 'it is no longer there'
          : change === 'replaced'
            ? 'another file was put in its place'
            : `it was written to (${change})`;
      throw new ReconError(
        'RECON_FETCH',
        `source ${plan.config.name}: ${f.fetched.name} changed while the run read it (${how}); nothing is published: run again once the file is complete`,
        { source: plan.config.name, file: f.fetched.name },
      );
    }
}

/** The as-of day of a file's first live record (null when every record is deleted). */
function fileDay(
  layout: DbfLayout,
  columns: ResolvedColumns,
  plugin: SourcePlugin,
  file: string,
  source: string,
): FileDay | null {
  const first = peekFirstLive(layout, columns.asOf);
  if (!first) return null;
  const formats = asOfFormats(columns.asOf.type, plugin.dateFormats);
  const day = parseAsOfDate(first.text, formats);
  if (day === null) {
    const at = { file, record: first.record, field: columns.asOf.name, source };
    throw notADate(at, formats, Buffer.from(first.text, 'latin1'));
  }
  return { day, record: first.record };
}

function fileRecord(f: SourceFile, layout: DbfLayout, asOf: string | null): FileRecord {
  return {
    name: f.name,
    size: layout.size,
    sha256: f.sha256!,
    records: layout.recordCount,
    deleted: 0,
    asOf,
    declaredRecords: layout.declaredRecords,
    presentRecords: layout.presentRecords,
    codePage: {
      encoding: layout.encoding,
      origin: layout.encodingOrigin,
      languageDriver: hexByte(layout.languageDriver),
      note: layout.encodingNote,
    },
    evidence: { unreadable: 0, samples: [] },
  };
}

function warnLayout(log: Logger, source: string, file: string, layout: DbfLayout): void {
  if (layout.encodingNote)
    log.warn(
      {
        source,
        file,
        languageDriver: hexByte(layout.languageDriver),
        encoding: layout.encoding,
      },
      layout.encodingNote,
    );
  if (layout.declaredRecords !== layout.presentRecords) {
    log.warn(
      {
        source,
        file,
        declaredRecords: layout.declaredRecords,
        presentRecords: layout.presentRecords,
      },
      'header record count differs from the records present; reading the records present (recordCount: present)',
    );
  }
}

/** The one as-of day of a source's files. */
function sourceDay(src: SourceConfig, files: FilePlan[]): string {
  const days = [...new Set(files.flatMap((f) => (f.asOf ? [f.asOf.day] : [])))];
  if (days.length === 0) {
    throw new ReconError(
      'RECON_DBF_DATE',
      `source ${src.name}: no live record in ${files.map((f) => f.fetched.name).join(', ')}, so there is no as-of day`,
      { source: src.name, file: files[0].fetched.name },
    );
  }
  if (days.length > 1) {
    const a = files.find((f) => f.asOf?.day === days[0])!,
      b = files.find((f) => f.asOf?.day === days[1])!;
    throw new ReconError(
      'RECON_ASOF_MIXED',
      `source ${src.name}: ${a.fetched.name} is as of ${days[0]} but ${b.fetched.name} is as of ${days[1]}; one run reconciles one day per source`,
      { source: src.name, file: b.fetched.name },
    );
  }
  return days[0];
}
