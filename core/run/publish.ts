/**
 * Stage 4, publish: rows go to the store in batches as they are made (a run never holds them all),
 * counted per status; then the run is committed in one flip, and the rows of the runs it
 * supersedes are removed. A failure before the flip marks the run failed and publishes nothing.
 */
import { ReconError, asReconError } from '../errors.js';
import type { ReconRow } from '../reconcile.js';
import type { RunSummary } from '../store/types.js';
import { abandoned, abortIfAsked, type RunContext } from './context.js';

/** Where the explain stage puts every result row. */
export interface RowSink {
  /**
   * A promise only when the row filled a batch and it is being written: await it then. Millions of
   * rows go through here, and a promise per row cost more than formatting the row.
   */
  write(row: ReconRow): Promise<void> | undefined;
  /** Writes what is pending. */
  flush(): Promise<void>;
  /** Time spent writing so far (ms). */
  readonly ms: number;
  readonly written: number;
}

/** Counts each row into the run's totals and writes rows in batches of `size`. */
export class RowWriter implements RowSink {
  private batch: ReconRow[] = [];
  ms = 0;
  written = 0;

  constructor(
    private readonly ctx: RunContext,
    private readonly size = ctx.store.rowsPerBatch ?? 10_000,
  ) {}

  write(row: ReconRow): Promise<void> | undefined {
    const { run } = this.ctx;
    run.counts[row.status]++;
    if (row.source !== null && run.sources[row.source])
      run.sources[row.source].counts[row.status]++;
    this.batch.push(row);
    return this.batch.length >= this.size ? this.flush() : undefined;
  }

  async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    const rows = this.batch;
    this.batch = [];
    const t0 = performance.now();
    abortIfAsked(this.ctx.signal);
    await this.ctx.store.writeRows(this.ctx.run, rows);
    this.ctx.log.debug({ rows: rows.length }, 'rows written');
    this.ms += performance.now() - t0;
    this.written += rows.length;
  }
}

/**
 * Makes the written run visible: the caller's last check (the daemon's lease fence), then the flip.
 * A run with nothing new to reconcile is recorded as skipped instead.
 */
export async function commitRun(
  ctx: RunContext,
  beforeCommit: ((runId: string) => Promise<void>) | undefined,
  now: () => Date,
): Promise<'committed' | 'skipped'> {
  const { run, store, log } = ctx;
  run.finishedAt = now();
  if (run.sourceNames.length === 0) {
    run.status = 'skipped';
    await store.skip(run);
    log.info({ skipped: run.skippedSources }, 'nothing new to reconcile');
    return 'skipped';
  }
  abortIfAsked(ctx.signal);
  await beforeCommit?.(run.runId);
  await ctx.timer.time('commit', () => store.commit(run));
  return 'committed';
}

/**
 * Marks a run failed and removes its rows; 'committed' when the flip turns out to have happened
 * although its answer was lost (the run is then published).
 */
export async function failRun(
  ctx: RunContext,
  err: unknown,
  now: () => Date,
): Promise<'failed' | 'committed'> {
  const { run, log } = ctx;
  const error =
    ctx.signal?.aborted && !(err instanceof ReconError && err.code !== 'RECON_INTERNAL')
      ? abandoned()
      : asReconError(err);
  run.status = 'failed';
  run.finishedAt = now();
  run.error = error.toJSON();
  const stored = await ctx.store.fail(run).catch((e: unknown) => {
    log.error({ err: asReconError(e).toJSON() }, 'could not mark run failed');
    return 'failed' as const;
  });
  if (stored === 'failed') {
    log.error({ err: run.error }, 'run failed');
    return 'failed';
  }
  log.warn({ err: run.error }, 'commit reported an error but the run is committed');
  run.error = null;
  return 'committed';
}

/**
 * After the flip the run is committed: removing the rows it supersedes may fail and leaves a
 * warning (the next run finishes it), never a failed run.
 */
export async function afterCommit(ctx: RunContext, run: RunSummary): Promise<void> {
  run.status = 'committed';
  ctx.log.info(
    { counts: run.counts, ms: run.finishedAt!.getTime() - run.startedAt.getTime() },
    'run committed',
  );
  await ctx.timer
    .time('cleanup', () => ctx.store.supersede(run))
    .then(
      (rows) => ctx.log.info({ rows }, 'superseded rows removed'),
      (err: unknown) =>
        ctx.log.warn(
          { err: asReconError(err).toJSON() },
          'run committed, but removing the rows it supersedes failed; the next run finishes it',
        ),
    );
}
