/**
 * One run, in the stages of the README's "How it works": plan (fetch, headers, as-of days), decode
 * and judge in the pool while the ledger aggregates, explain and write the rows, publish. A failure
 * at any step marks the run failed and publishes nothing; the previous committed results stay
 * visible.
 */
import { randomUUID } from 'node:crypto';
import { configHash, type LoadedConfig } from '../config/loaded.js';
import type { ReconConfig, SourceConfig } from '../config/schema.js';
import { ReconError, asReconError } from './errors.js';
import { RunStaging } from './fetch/staging.js';
import { materialityToPaise, toleranceToUnits } from './fixed-point.js';
import { KeySpace } from './keys/key-space.js';
import { createLedger } from './ledger/index.js';
import type { Logger } from './logger.js';
import { ReconPool } from './pool.js';
import { emptyCounts } from './reconcile.js';
import { abortIfAsked, stageTimer, type Progress, type RunContext } from './run/context.js';
import { decodeSources, mergePartitions, totalRecords } from './run/decode.js';
import { explainRun } from './run/explain.js';
import { ledgerCutoffs, ledgerSummaries, readLedger } from './run/ledger.js';
import { checkFilesUnchanged, planRun, type PlanOptions } from './run/plan.js';
import { RowWriter, afterCommit, commitRun, failRun } from './run/publish.js';
import { createStore } from './store/index.js';
import type { RunSummary } from './store/types.js';

export type { Progress } from './run/context.js';
export { mergePartitions, splitRanges } from './run/decode.js';

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

export async function runReconciliation(options: RunOptions): Promise<RunSummary> {
  const { config } = options.loaded;
  const now = options.now ?? (() => new Date());
  const selected = selectSources(config.sources, options.sources ?? []);
  const tolerance = toleranceToUnits(config.reconcile.tolerance);
  const materiality = materialityToPaise(config.reconcile.materiality);
  const ctx = openRun(options, selected, now(), tolerance);
  const staging = new RunStaging(ctx.run.runId);
  const inputs = { staging, force: options.force ?? false, materiality };
  try {
    await ctx.store.begin(ctx.run);
    ctx.log.info({ sources: ctx.run.sourceNames }, 'run started');
    await tidyEarlierRuns(ctx);
    try {
      await reconcile(ctx, selected, inputs);
      if ((await commitRun(ctx, options.beforeCommit, now)) === 'skipped') return ctx.run;
    } catch (err) {
      if ((await failRun(ctx, err, now)) === 'failed') return ctx.run;
    }
    await afterCommit(ctx, ctx.run);
    return ctx.run;
  } finally {
    options.progress?.stop();
    if (!options.pool) await ctx.pool.close();
    await Promise.allSettled([ctx.store.close(), ctx.ledger.close(), staging.cleanup()]);
  }
}

/** Plan, decode and judge (while the ledger aggregates), then explain and write every row. */
async function reconcile(
  ctx: RunContext,
  selected: readonly SourceConfig[],
  inputs: PlanOptions & { materiality: number },
): Promise<void> {
  const plans = await ctx.timer.time('fetch', () => planRun(ctx, selected, inputs));
  if (plans.length === 0) return;
  const timezone = ctx.run.timezone;
  const cutoffs = ledgerCutoffs(plans, timezone);
  ctx.log.info(
    { cutoffs: cutoffs.map((c) => ({ asOf: c.asOf, cutoff: c.cutoff.toISOString() })) },
    'ledger cut-offs',
  );
  const space = new KeySpace();
  const partitions = mergePartitions(totalRecords(plans), ctx.pool.threads);
  const ledgerDays = ctx.timer.time('ledger', () =>
    readLedger(ctx.ledger, cutoffs, space, partitions),
  );
  const indexes = ledgerDays.then((l) => l.indexes);
  indexes.catch(() => undefined); // the same failure reaches Promise.all through ledgerDays
  const [{ snapshots }, tables] = await Promise.all([
    ledgerDays,
    ctx.timer.time('decode', () => decodeSources(ctx, plans, { space, partitions, indexes })),
  ]).catch(async (err: unknown) => {
    // A file that changed under the run explains a decode error (a record cut short, a file
    // gone) better than the error does.
    await checkFilesUnchanged(plans);
    throw err;
  });
  abortIfAsked(ctx.signal);
  await checkFilesUnchanged(plans);
  ctx.run.ledger = ledgerSummaries(ctx.log, snapshots);
  const input = { plans, tables, snapshots, cutoffs, timezone, materiality: inputs.materiality };
  const explained = await explainRun(ctx, input, new RowWriter(ctx));
  const { timingsMs, ...results } = explained;
  Object.assign(ctx.run, results);
  Object.assign(ctx.run.timingsMs, timingsMs);
}

/** The run document as it starts, and the services the run uses. */
function openRun(
  options: RunOptions,
  selected: SourceConfig[],
  startedAt: Date,
  tolerance: number,
): RunContext {
  const { config, baseDir } = options.loaded;
  const run = startRun(config, selected, startedAt);
  const pool = options.pool ?? new ReconPool(config.pool.threads);
  return {
    config,
    baseDir,
    run,
    log: options.logger.child({ runId: run.runId }),
    store: createStore(config, baseDir),
    ledger: createLedger(config, baseDir, {
      run: (task) => pool.ledgerRange(task),
      parts: pool.threads,
    }),
    pool,
    timer: stageTimer(run),
    tolerance,
    signal: options.signal,
    progress: options.progress,
  };
}

function startRun(config: ReconConfig, selected: SourceConfig[], startedAt: Date): RunSummary {
  return emptyRun({
    runId: randomUUID(),
    status: 'running',
    startedAt,
    finishedAt: null,
    timezone: config.timezone,
    tolerance: config.reconcile.tolerance,
    configHash: configHash(config),
    sourceNames: selected.map((s) => s.name),
    allSources: selected.length === config.sources.length,
  });
}

/** The part of a run summary that says which run it is, as opposed to what it counted. */
export type RunIdentity = Omit<
  RunSummary,
  'sources' | 'ledger' | 'counts' | 'closedPositions' | 'timingsMs' | 'error'
>;

/** A run that has counted nothing yet. */
export function emptyRun(identity: RunIdentity): RunSummary {
  return {
    ...identity,
    sources: {},
    ledger: [],
    counts: emptyCounts(),
    closedPositions: 0,
    timingsMs: {},
    error: null,
  };
}

async function tidyEarlierRuns(ctx: RunContext): Promise<void> {
  await ctx.store.tidy().then(
    (t) => {
      if (t.rowsDeleted > 0) ctx.log.info(t, 'finished the cleanup of earlier runs');
    },
    (err: unknown) =>
      ctx.log.warn(
        { err: asReconError(err).toJSON() },
        'could not finish the cleanup of earlier runs; a later run will',
      ),
  );
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
