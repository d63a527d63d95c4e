/**
 * One run: fetch → open headers → decode ranges in the pool (while the ledger aggregates in
 * MongoDB)
 * → merge → reconcile → write → publish. A failure at any step marks the run failed and publishes
 * nothing; the previous committed results stay visible.
 */
import { randomUUID } from 'node:crypto';
import { configHash, resolvePath, type LoadedConfig } from '../config/load.js';
import type { SourceConfig } from '../config/schema.js';
import { endOfDayUtc, nextDay } from './as-of-day.js';
import {
  ageBreak,
  breakId,
  previousById,
  resolvedBreaks,
  type LifecycleSummary,
  type PreviousBreak,
} from './breaks/lifecycle.js';
import {
  groupOf,
  pairKeyMismatch,
  pairingGroups,
  rowReason,
  type NextDayMovements,
} from './breaks/reasons.js';
import { materialityToPaise, valueBreak, ValueTotals } from './breaks/value.js';
import { resolveColumns, type ResolvedColumns } from './dbf/columns.js';
import { parseAsOfDate } from './dbf/as-of-date.js';
import { readDbfLayout, type DbfLayout } from './dbf/layout.js';
import { hexByte } from './dbf/header.js';
import { peekFirstLive } from './dbf/peek.js';
import { EVIDENCE_SAMPLES, type EvidenceProblems } from './dbf/projection.js';
import { ReconError, asReconError } from './errors.js';
import { fetchSource, type SourceFile } from './fetch/index.js';
import { RunStaging } from './fetch/staging.js';
import { sha256File } from './file-digest.js';
import { toleranceToUnits } from './fixed-point.js';
import { keyOf } from './key.js';
import { createLedger } from './ledger/index.js';
import type { LedgerSnapshot } from './ledger/types.js';
import type { Logger } from './logger.js';
import { loadPlugin, pluginLabel, resolvePluginSpecifier, type SourcePlugin } from './plugin.js';
import { ReconPool } from './pool.js';
import { assembleTable, type HoldingTable } from './holding-table.js';
import { KeySpace } from './key-space.js';
import { indexPositions, type PositionIndex } from './position-index.js';
import { emptyCounts, findMongoOnly, type ReconRow } from './reconcile.js';
import { createStore } from './store/index.js';
import { createReader } from './store/reader.js';
import type { FileRecord, RunSummary } from './store/types.js';

export interface Progress {
  start(totalRecords: number): void;
  advance(records: number): void;
  stop(): void;
}

export interface RunOptions {
  loaded: LoadedConfig;
  /** Source names to run (case-insensitive); all when empty. */
  sources?: string[];
  logger: Logger;
  /** Reconcile files even when a committed run with the same config already did. */
  force?: boolean;
  /** A long-lived pool (daemon); otherwise one is made and closed for this run. */
  pool?: ReconPool;
  progress?: Progress;
  /** Aborts the run (shutdown): it is marked failed and nothing is published. */
  signal?: AbortSignal;
  /** Called right before publishing; throws to stop the commit (the daemon's lease fence). */
  beforeCommit?: (runId: string) => Promise<void>;
  now?: () => Date;
}

interface FilePlan {
  source: string;
  fetched: SourceFile;
  layout: DbfLayout;
  columns: ResolvedColumns;
  asOf: string | null;
  /** The run document's entry for this file, filled in by decode and hash. */
  record: FileRecord;
}

interface SourcePlan {
  config: SourceConfig;
  plugin: SourcePlugin;
  specifier: string;
  files: FilePlan[];
  asOf: string;
  decimals: number;
}

export async function runReconciliation(options: RunOptions): Promise<RunSummary> {
  const { loaded, logger } = options;
  const { config, baseDir } = loaded;
  const now = options.now ?? (() => new Date());
  const selected = selectSources(config.sources, options.sources ?? []);
  const timezone = config.timezone ?? 'Asia/Kolkata';
  const tolerance = toleranceToUnits(config.reconcile?.tolerance ?? 0.001);
  const materiality = materialityToPaise(config.reconcile?.materiality ?? 0);
  const run: RunSummary = {
    runId: randomUUID(),
    status: 'running',
    startedAt: now(),
    finishedAt: null,
    timezone,
    tolerance: config.reconcile?.tolerance ?? 0.001,
    configHash: configHash(config),
    sourceNames: selected.map((s) => s.name),
    allSources: selected.length === config.sources.length,
    sources: {},
    ledger: [],
    counts: emptyCounts(),
    closedPositions: 0,
    timingsMs: {},
    error: null,
  };
  const log = logger.child({ runId: run.runId });
  const store = createStore(config, baseDir);
  const ledger = createLedger(config, baseDir);
  const pool = options.pool ?? new ReconPool(config.pool?.threads);
  const timer = stageTimer(run);
  const staging = new RunStaging(run.runId);
  try {
    await store.begin(run);
    log.info({ sources: run.sourceNames }, 'run started');
    await store.tidy().then(
      (t) => {
        if (t.rowsDeleted > 0) log.info(t, 'finished the cleanup of earlier runs');
      },
      (err: unknown) =>
        log.warn(
          { err: asReconError(err).toJSON() },
          'could not finish the cleanup of earlier runs; a later run will',
        ),
    );
    try {
      await execute();
      run.finishedAt = now();
      if (run.sourceNames.length === 0) {
        run.status = 'skipped';
        await store.skip(run);
        log.info({ skipped: run.skippedSources }, 'nothing new to reconcile');
        return run;
      }
      abortIfAsked();
      await options.beforeCommit?.(run.runId);
      await timer.time('commit', () => store.commit(run));
    } catch (err) {
      const error =
        options.signal?.aborted && !(err instanceof ReconError && err.code !== 'RECON_INTERNAL')
          ? new ReconError(
              'RECON_ABANDONED',
              'run abandoned: shutdown requested before it could finish',
            )
          : asReconError(err);
      run.status = 'failed';
      run.finishedAt = now();
      run.error = error.toJSON();
      const stored = await store.fail(run).catch((e: unknown) => {
        log.error({ err: asReconError(e).toJSON() }, 'could not mark run failed');
        return 'failed' as const;
      });
      if (stored === 'failed') {
        log.error({ err: run.error }, 'run failed');
        return run;
      }
      // The flip happened although its answer was lost: the run is published.
      log.warn({ err: run.error }, 'commit reported an error but the run is committed');
      run.error = null;
    }
    // From the flip on the run is committed: cleanup failing leaves a warning, never a failed run.
    run.status = 'committed';
    log.info(
      { counts: run.counts, ms: run.finishedAt!.getTime() - run.startedAt.getTime() },
      'run committed',
    );
    await timer
      .time('cleanup', () => store.supersede(run))
      .then(
        (rows) => log.info({ rows }, 'superseded rows removed'),
        (err: unknown) =>
          log.warn(
            { err: asReconError(err).toJSON() },
            'run committed, but removing the rows it supersedes failed; the next run finishes it',
          ),
      );
    return run;
  } finally {
    options.progress?.stop();
    if (!options.pool) await pool.close();
    await Promise.allSettled([store.close(), ledger.close(), staging.cleanup()]);
  }

  async function execute(): Promise<void> {
    const plans = await timer.time('fetch', () => planSources());
    if (plans.length === 0) return;
    const cutoffs = [...new Set(plans.map((p) => p.asOf))]
      .sort()
      .map((asOf) => ({ asOf, cutoff: endOfDayUtc(asOf, timezone) }));
    log.info(
      { cutoffs: cutoffs.map((c) => ({ asOf: c.asOf, cutoff: c.cutoff.toISOString() })) },
      'ledger cut-offs',
    );
    // The ledger aggregates in the server while the pool decodes. Its stage ends with each day's
    // positions indexed as numbers, cut into the merge partitions that the pool judges against.
    const space = new KeySpace();
    const records = plans.reduce(
      (n, p) => n + p.files.reduce((m, f) => m + f.layout.recordCount, 0),
      0,
    );
    const partitions = mergePartitions(records, pool.threads);
    const ledgerReady = timer.time('ledger', async () => {
      const snaps = await ledger.snapshots(cutoffs);
      return {
        snaps,
        indexes: new Map(
          snaps.map((snap) => [snap.asOf, indexPositions(snap.positions, space, partitions)]),
        ),
      };
    });
    const indexes = ledgerReady.then((l) => l.indexes);
    indexes.catch(() => undefined); // the same failure reaches Promise.all through ledgerReady
    const [{ snaps: snapshots }, tables] = await Promise.all([
      ledgerReady,
      timer.time('decode', () => decodeAll(plans, records, space, partitions, indexes)),
    ]);
    abortIfAsked();
    run.ledger = snapshots.map((s) => ledgerSummary(s));
    for (const s of snapshots) warnAnomalies(s);

    // Rows are made lazily and written in batches as they come: a run never holds them all. Matched
    // rows go out at once; a break is kept as its position in the source's table (a number, not a
    // row) until it has been explained and aged, because a bad day can make millions of them.
    const writer = new BatchWriter(async (batch) => {
      abortIfAsked();
      await store.writeRows(run, batch);
      log.debug({ rows: batch.length }, 'rows written');
    });
    const write = async (r: ReconRow) => {
      run.counts[r.status]++;
      if (r.source !== null && run.sources[r.source]) run.sources[r.source].counts[r.status]++;
      if (writer.add(r)) await writer.flush();
    };
    const t0 = performance.now();
    const judged = plans.map((plan) => ({
      plan,
      table: tables.get(plan.config.name)!,
      breaks: [] as number[],
      src: { source: plan.config.name, asOf: plan.asOf, decimals: plan.decimals },
    }));
    const productOwner = new Map<string, string>();
    for (const j of judged) {
      for (const productCode of j.table.productCodes())
        if (!productOwner.has(productCode)) productOwner.set(productCode, j.plan.config.name);
      for (let i = 0; i < j.table.size; i++) {
        if (j.table.statusAt(i) === 'matched') await write(j.table.rowAt(j.src, i, tolerance));
        else j.breaks.push(i);
      }
    }
    const patterns = config.sources.map((s) => ({
      name: s.name,
      res: (s.productCodePatterns ?? []).map((p) => new RegExp(p)),
    }));
    const ownerOf = (productCode: string): string | null =>
      productOwner.get(productCode) ??
      patterns.find((p) => p.res.some((re) => re.test(productCode)))?.name ??
      null;
    const mongoOnly = findMongoOnly({
      positionsByDay: new Map(snapshots.map((s) => [s.asOf, s.positions])),
      ownerOf,
      includeUnowned: run.allSources,
      tolerance,
      listed: (key) => judged.some((j) => j.table.has(key)),
      sources: plans.map((p) => ({ source: p.config.name, asOf: p.asOf, decimals: p.decimals })),
    });
    const names = await ledger.schemeNames(
      mongoOnly.rows.map((r) => ({ productCode: r.productCode, folio: r.folio })),
    );
    run.closedPositions = mongoOnly.closed;
    for (const r of mongoOnly.rows) r.schemeName = names.get(keyOf(r.productCode, r.folio)) ?? null;

    // Explain and age the breaks, then write them.
    const tExplain = performance.now();
    const writeMsBefore = writer.ms;
    const nextDayMoves = new Map<string, NextDayMovements>();
    for (const c of cutoffs)
      nextDayMoves.set(
        c.asOf,
        await ledger.movements(c.cutoff, endOfDayUtc(nextDay(c.asOf), timezone)),
      );
    const previousList: PreviousBreak[] = [];
    // A loop, not push(...list): spreading a list of a few hundred thousand overflows the stack.
    const addPrevious = (list: PreviousBreak[]) => {
      for (const b of list) previousList.push(b);
    };
    for (const plan of plans) addPrevious(await store.previousBreaks(plan.config.name, plan.asOf));
    if (run.allSources) addPrevious(await store.previousBreaks(null, cutoffs.at(-1)!.asOf));
    const previous = previousById(previousList);
    const lifecycle: LifecycleSummary = {
      new: 0,
      persisting: 0,
      changed: 0,
      reopened: 0,
      resolved: [],
    };
    // Value: the file's NAV, else the ledger's latest for the key (looked up only for breaks that
    // need it).
    const navKeys = new Map<string, { productCode: string; folio: string }[]>();
    const wantNav = (asOf: string, productCode: string, folio: string) => {
      const list = navKeys.get(asOf) ?? [];
      list.push({ productCode, folio });
      navKeys.set(asOf, list);
    };
    for (const j of judged)
      for (const i of j.breaks) {
        if (j.table.statusAt(i) === 'mismatched' && j.table.navAt(i) === null) {
          const h = j.table.holdingAt(i);
          wantNav(j.src.asOf, h.productCode, h.folio);
        }
      }
    for (const r of mongoOnly.rows) wantNav(r.asOf, r.productCode, r.folio);
    const ledgerNavs = new Map<string, Map<string, number>>();
    for (const c of cutoffs)
      ledgerNavs.set(
        c.asOf,
        navKeys.has(c.asOf) ? await ledger.latestNavs(c.cutoff, navKeys.get(c.asOf)!) : new Map(),
      );
    const values = new ValueTotals();
    // A break that was resolved on an earlier day and is back is reopened, not new.
    const reopenable = await createReader(config, baseDir).resolvedBefore(cutoffs.at(-1)!.asOf);
    const finish = (row: ReconRow) => {
      const navs = ledgerNavs.get(row.asOf);
      valueBreak(
        row,
        navs !== undefined && navs.size > 0
          ? navs.get(keyOf(row.productCode, row.folio))
          : undefined,
        materiality,
      );
      ageBreak(row, previous, lifecycle);
      const resolvedOn =
        row.lifecycle === 'new' && reopenable.size > 0
          ? reopenable.get(breakId(row.source, row.productCode, row.folio))
          : undefined;
      if (resolvedOn !== undefined && resolvedOn < row.asOf) {
        row.lifecycle = 'reopened';
        row.reopenedAfter = resolvedOn;
        lifecycle.new--;
        lifecycle.reopened++;
      }
      values.add(row);
      if (row.immaterial) {
        run.immaterial = (run.immaterial ?? 0) + 1;
        if (row.lifecycle === 'new' || row.lifecycle === 'reopened')
          lifecycle.immaterialNew = (lifecycle.immaterialNew ?? 0) + 1;
      }
    };
    for (const r of mongoOnly.rows) r.reason = rowReason(r, nextDayMoves.get(r.asOf));
    // Pairings need both sides: only dbf_only rows whose (source, product) has a mongo_only row can
    // pair.
    const groups = pairingGroups(mongoOnly.rows);
    const paired = new Map<string, ReconRow>();
    const materialise = (j: (typeof judged)[number], i: number): ReconRow => {
      const row = j.table.rowAt(j.src, i, tolerance);
      row.reason = rowReason(row, nextDayMoves.get(row.asOf));
      return row;
    };
    if (groups.size > 0) {
      for (const j of judged)
        for (const i of j.breaks) {
          const row = materialise(j, i);
          if (row.status === 'dbf_only' && groups.has(groupOf(row)) && pairKeyMismatch(row, groups))
            paired.set(`${j.src.source}\u0000${i}`, row);
        }
    }
    for (const j of judged)
      for (const i of j.breaks) {
        const row = paired.get(`${j.src.source}\u0000${i}`) ?? materialise(j, i);
        finish(row);
        await write(row);
      }
    for (const r of mongoOnly.rows) {
      finish(r);
      await write(r);
    }
    const mongoOnlyIds = new Set(
      mongoOnly.rows.map((r) => breakId(r.source, r.productCode, r.folio)),
    );
    const covered = new Map<string | null, string>(plans.map((p) => [p.config.name, p.asOf]));
    if (run.allSources) covered.set(null, cutoffs.at(-1)!.asOf);
    lifecycle.resolved = resolvedBreaks(
      previous.values(),
      (p) => {
        if (mongoOnlyIds.has(breakId(p.source, p.productCode, p.folio))) return true;
        const j = judged.find((x) => x.src.source === p.source);
        const i = j ? j.table.indexOf(keyOf(p.productCode, p.folio)) : -1;
        return j !== undefined && i >= 0 && j.table.statusAt(i) !== 'matched';
      },
      (source) => covered.get(source),
    );
    run.breaks = lifecycle;
    run.values = values.list();
    await writer.flush();
    run.timingsMs.explain = Math.round(performance.now() - tExplain - (writer.ms - writeMsBefore));
    run.timingsMs.write = Math.round(writer.ms);
    run.timingsMs.reconcile = Math.round(
      performance.now() - t0 - writer.ms - run.timingsMs.explain,
    );
    const rowsPerSecond = Math.round(writer.written / (Math.max(writer.ms, 1) / 1000));
    log.info({ rows: writer.written, ms: run.timingsMs.write, rowsPerSecond }, 'results written');
  }

  async function planSources(): Promise<SourcePlan[]> {
    const plans: SourcePlan[] = [];
    const skipped: string[] = [];
    for (const src of selected) {
      const fetched = await fetchSource(src, baseDir, log, staging, options.signal);
      if (fetched.length === 0) {
        const where =
          src.fetch.type === 'local'
            ? resolvePath(baseDir, src.fetch.dir)
            : `${src.fetch.host}:${src.fetch.remoteDir}`;
        throw new ReconError(
          'RECON_NO_FILES',
          `source ${src.name}: no file in ${where} matches ${src.fetch.pattern}`,
          { source: src.name },
        );
      }
      for (const f of fetched) f.sha256 ??= await sha256File(f.path);
      if (!options.force) {
        const done = await store.committedFileHashes(
          run.configHash,
          fetched.map((f) => f.sha256!),
        );
        if (fetched.every((f) => done.has(f.sha256!))) {
          log.info(
            { source: src.name, files: fetched.map((f) => f.name) },
            'already reconciled by a committed run with the same config; skipping (use --force to redo)',
          );
          skipped.push(src.name);
          continue;
        }
      }
      const specifier = resolvePluginSpecifier(src.plugin, baseDir);
      const plugin = await loadPlugin(specifier);
      const files: FilePlan[] = [];
      for (const f of fetched) {
        const layout = await readDbfLayout(f.path, {
          encoding: src.encoding,
          recordCount: src.recordCount ?? 'header',
        });
        const columns = resolveColumns(layout, plugin, src.columns ?? {});
        const first = peekFirstLive(layout, columns.asOf);
        let asOf: string | null = null;
        if (first) {
          asOf = parseAsOfDate(
            first.text,
            columns.asOf.type === 'D' ? ['yyyymmdd'] : plugin.dateFormats,
          );
          if (asOf === null) {
            throw new ReconError(
              'RECON_DBF_DATE',
              `${f.name}: record ${first.record} field ${columns.asOf.name} is not a date in ${plugin.dateFormats.join(', ')}: "${first.text.trim()}"`,
              {
                file: f.name,
                record: first.record,
                field: columns.asOf.name,
                rawHex: Buffer.from(first.text, 'latin1').toString('hex'),
                source: src.name,
              },
            );
          }
        }
        const record: FileRecord = {
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
        files.push({ source: src.name, fetched: f, layout, columns, asOf, record });
        log.info(
          {
            source: src.name,
            file: f.name,
            records: layout.recordCount,
            bytes: layout.size,
            asOf,
            encoding: layout.encoding,
            encodingOrigin: layout.encodingOrigin,
          },
          'file opened',
        );
        if (layout.encodingNote)
          log.warn(
            {
              source: src.name,
              file: f.name,
              languageDriver: hexByte(layout.languageDriver),
              encoding: layout.encoding,
            },
            layout.encodingNote,
          );
        if (layout.declaredRecords !== layout.presentRecords) {
          log.warn(
            {
              source: src.name,
              file: f.name,
              declaredRecords: layout.declaredRecords,
              presentRecords: layout.presentRecords,
            },
            'header record count differs from the records present; reading the records present (recordCount: present)',
          );
        }
      }
      const days = [...new Set(files.map((f) => f.asOf).filter((d): d is string => d !== null))];
      if (days.length === 0) {
        throw new ReconError(
          'RECON_DBF_DATE',
          `source ${src.name}: no live record in ${files.map((f) => f.fetched.name).join(', ')}, so there is no as-of day`,
          { source: src.name, file: files[0].fetched.name },
        );
      }
      if (days.length > 1) {
        const a = files.find((f) => f.asOf === days[0])!,
          b = files.find((f) => f.asOf === days[1])!;
        throw new ReconError(
          'RECON_ASOF_MIXED',
          `source ${src.name}: ${a.fetched.name} is as of ${days[0]} but ${b.fetched.name} is as of ${days[1]}; one run reconciles one day per source`,
          { source: src.name, file: b.fetched.name },
        );
      }
      const decimals = Math.max(
        ...files.map((f) =>
          f.columns.units.type === 'C' ? 4 : Math.min(4, f.columns.units.decimals),
        ),
      );
      plans.push({ config: src, plugin, specifier, files, asOf: days[0], decimals });
      run.sources[src.name] = {
        plugin: pluginLabel(src.plugin),
        asOf: days[0],
        files: files.map((f) => f.record),
        rows: 0,
        deleted: 0,
        keys: 0,
        counts: emptyCounts(),
      };
    }
    if (skipped.length > 0) {
      run.skippedSources = skipped;
      run.sourceNames = run.sourceNames.filter((n) => !skipped.includes(n));
      run.allSources = false;
    }
    return plans;
  }

  async function decodeAll(
    plans: SourcePlan[],
    records: number,
    space: KeySpace,
    partitions: number,
    indexes: Promise<Map<string, PositionIndex>>,
  ): Promise<Map<string, HoldingTable>> {
    const rangeRecords = config.pool?.rangeRecords ?? 250_000;
    options.progress?.start(records);
    const out = new Map<string, HoldingTable>();
    await Promise.all(
      plans.map(async (plan) => {
        const t0 = performance.now();
        const summary = run.sources[plan.config.name];
        const byFile = await Promise.all(
          plan.files.map(async (file) => {
            const ranges = splitRanges(file.layout.recordCount, pool.threads, rangeRecords);
            // A range's rows are numbers in typed arrays (about 30 bytes a row), held until the
            // merge.
            const decoded = await Promise.all(
              ranges.map(async ([start, end]) => {
                const { rows: part, ms } = await pool.decode(
                  {
                    file: file.fetched.path,
                    headerLength: file.layout.headerLength,
                    recordLength: file.layout.recordLength,
                    start,
                    end,
                    columns: file.columns,
                    encoding: file.layout.encoding,
                    pluginSpecifier: plan.specifier,
                    partitions,
                  },
                  options.signal,
                );
                options.progress?.advance(end - start);
                log.debug(
                  {
                    source: plan.config.name,
                    file: file.fetched.name,
                    start,
                    end,
                    rows: part.pid.length,
                    ms: Math.round(ms),
                  },
                  'range decoded',
                );
                if (part.asOf !== null && part.asOf !== plan.asOf) {
                  throw new ReconError(
                    'RECON_ASOF_MIXED',
                    `${file.fetched.name}: record ${part.asOfRecord} is as of ${part.asOf} but the source is as of ${plan.asOf}`,
                    {
                      file: file.fetched.name,
                      record: part.asOfRecord,
                      field: file.columns.asOf.name,
                      source: plan.config.name,
                    },
                  );
                }
                file.record.deleted += part.deleted;
                summary.navMissing = (summary.navMissing ?? 0) + part.navMissing;
                addEvidenceProblems(file.record.evidence, part.evidence);
                return part;
              }),
            );
            summary.deleted += file.record.deleted;
            if (file.record.evidence.unreadable > 0) {
              log.warn(
                {
                  source: plan.config.name,
                  file: file.fetched.name,
                  unreadable: file.record.evidence.unreadable,
                  samples: file.record.evidence.samples,
                },
                'evidence values not readable; left absent',
              );
            }
            summary.rows += file.record.records - file.record.deleted;
            return decoded;
          }),
        );
        const index = (await indexes).get(plan.asOf)!;
        const table = await assembleTable(byFile.flat(), space, index, tolerance, (task) =>
          pool.merge(task, options.signal),
        );
        out.set(plan.config.name, table);
        summary.keys = table.size;
        summary.decodeMs = Math.round(performance.now() - t0);
        log.info(
          {
            source: plan.config.name,
            rows: summary.rows,
            deleted: summary.deleted,
            keys: summary.keys,
            ms: summary.decodeMs,
          },
          'source decoded',
        );
      }),
    );
    return out;
  }

  function warnAnomalies(s: LedgerSnapshot): void {
    const a = s.anomalies;
    if (a.missingKey + a.nonNumericUnits + a.badDate > 0) {
      log.warn(
        {
          asOf: s.asOf,
          missingKey: a.missingKey,
          nonNumericUnits: a.nonNumericUnits,
          badDate: a.badDate,
          samples: a.samples,
        },
        'ledger transactions not counted',
      );
    }
  }

  function abortIfAsked(): void {
    if (options.signal?.aborted)
      throw new ReconError(
        'RECON_ABANDONED',
        'run abandoned: shutdown requested before it could finish',
      );
  }
}

function addEvidenceProblems(to: EvidenceProblems, from: EvidenceProblems): void {
  to.unreadable += from.unreadable;
  for (const s of from.samples) if (to.samples.length < EVIDENCE_SAMPLES) to.samples.push(s);
  to.samples.sort((a, b) => a.record - b.record);
}

function selectSources(all: SourceConfig[], wanted: string[]): SourceConfig[] {
  if (wanted.length === 0) return all;
  const out: SourceConfig[] = [];
  for (const w of wanted) {
    const s = all.find((x) => x.name.toUpperCase() === w.toUpperCase());
    if (!s)
      throw new ReconError(
        'RECON_USAGE',
        `unknown source ${w}; configured: ${all.map((x) => x.name).join(', ')}`,
      );
    if (!out.includes(s)) out.push(s);
  }
  return out;
}

/**
 * Merge partitions for a run: every thread gets several, and each one's tables (~64k keys) stay in
 * a core's cache while it is merged and judged.
 */
export function mergePartitions(records: number, threads: number): number {
  if (records < 20_000) return 1;
  return Math.min(4096, Math.max(threads * 2, Math.ceil(records / 64_000)));
}

/**
 * Record ranges for one file: none larger than `rangeRecords`, and with several threads about four
 * per thread (of at least 50k records), so a thread slowed by a neighbour does not hold up the
 * rest.
 */
export function splitRanges(
  records: number,
  threads: number,
  rangeRecords: number,
): [number, number][] {
  if (records === 0) return [[0, 0]];
  let parts = Math.ceil(records / rangeRecords);
  if (threads > 1) parts = Math.max(parts, Math.min(threads * 4, Math.floor(records / 50_000)));
  if (records >= 20_000 && parts < threads) parts = threads;
  const size = Math.ceil(records / parts);
  const out: [number, number][] = [];
  for (let start = 0; start < records; start += size)
    out.push([start, Math.min(records, start + size)]);
  return out;
}

/** Collects rows and says when a batch is full; times the writes. */
class BatchWriter {
  private batch: ReconRow[] = [];
  ms = 0;
  written = 0;

  constructor(
    private readonly write: (rows: ReconRow[]) => Promise<void>,
    private readonly size = 10_000,
  ) {}

  /** Adds a row; true when the batch should be flushed. */
  add(row: ReconRow): boolean {
    this.batch.push(row);
    return this.batch.length >= this.size;
  }

  async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    const rows = this.batch;
    this.batch = [];
    const t0 = performance.now();
    await this.write(rows);
    this.ms += performance.now() - t0;
    this.written += rows.length;
  }
}

function ledgerSummary(s: LedgerSnapshot) {
  return {
    asOf: s.asOf,
    cutoff: s.cutoff.toISOString(),
    transactions: s.transactions,
    positions: s.positions.size,
    missingKey: s.anomalies.missingKey,
    nonNumericUnits: s.anomalies.nonNumericUnits,
    badDate: s.anomalies.badDate,
    samples: s.anomalies.samples,
    ignoredTypes: s.ignoredTypes,
  };
}

function stageTimer(run: RunSummary) {
  return {
    async time<T>(stage: string, fn: () => Promise<T>): Promise<T> {
      const t0 = performance.now();
      try {
        return await fn();
      } finally {
        run.timingsMs[stage] = Math.round(performance.now() - t0);
      }
    },
  };
}
