/**
 * `recon daemon`: runs the reconciliation on a croner schedule, unattended.
 *
 * - Never overlaps itself (croner `protect`, and a run in progress makes a tick a no-op).
 * - Takes a lease in MongoDB per run (core/lease.ts), so two daemons on two hosts never run the
 * same
 *   job at once; the lease is renewed while the run goes on and fenced at publish.
 * - One worker pool for the daemon's life.
 * - stop(): stops scheduling, lets a running run finish within the grace period, otherwise aborts
 * it
 *   (it is marked failed and nothing is published), then closes the pool and the health server.
 */
import { Cron } from 'croner';
import type { LoadedConfig } from '../config/loaded.js';
import { DEFAULTS } from '../config/schema.js';
import { afterRun } from './after-run.js';
import { sendAlert } from './alerts.js';
import { dayInZone } from './day-boundary.js';
import { runReconciliation } from './engine.js';
import { asReconError } from './errors.js';
import { HealthServer } from './health.js';
import { Lease, type LeaseDoc } from './lease.js';
import type { Logger } from './logger.js';
import { mongoClient } from './mongo-client.js';
import { ReconPool } from './pool.js';
import type { RunSummary } from './store/types.js';

/**
 * How long an abandoned run may take to stop after its abort, before shutdown goes on without it.
 */
export const ABANDON_BOUND_MS = 10_000;

export class Daemon {
  private cron: Cron | null = null;
  private readonly pool: ReconPool;
  readonly lease: Lease | null;
  private readonly health: HealthServer;
  private current: Promise<RunSummary | null> | null = null;
  private runAbort: AbortController | null = null;
  private lastRun: RunSummary | null = null;
  private lastError: string | null = null;
  private stopping = false;
  /**
   * When each source last arrived (committed or already reconciled), for the file deadline alert.
   */
  private readonly arrived = new Map<string, Date>();
  private deadlineCron: Cron | null = null;
  /** The health server's port once listening (0 picks a free one). */
  healthPort: number | null = null;

  constructor(
    private readonly loaded: LoadedConfig,
    private readonly logger: Logger,
  ) {
    const { config } = loaded;
    this.pool = new ReconPool(config.pool.threads);
    const store = config.store;
    const schedule = this.schedule;
    this.lease =
      store.type === 'mongodb'
        ? new Lease(
            async () =>
              (await mongoClient(store.uri))
                .db(store.database)
                .collection<LeaseDoc>(store.collections.leases),
            schedule.leaseName,
            schedule.leaseSeconds * 1000,
          )
        : null;
    if (!this.lease) logger.warn('store is not MongoDB: no lease, so run only one daemon');
    this.health = new HealthServer(() => ({
      state: this.stopping ? 'stopping' : this.current ? 'running' : 'idle',
      lastRun: this.lastRun,
      nextRun: this.cron?.nextRun() ?? null,
      lastError: this.lastError,
    }));
  }

  /** The schedule's settings; a daemon driven by hand (no schedule) has the defaults. */
  private get schedule() {
    return this.loaded.config.schedule ?? DEFAULTS.schedule;
  }

  async start(): Promise<void> {
    const { config } = this.loaded;
    if (!config.schedule)
      throw asReconError({
        code: 'RECON_CONFIG_INVALID',
        message: 'recon daemon needs a schedule: { cron, timezone } in the config',
      });
    const { health } = config;
    if (health.enabled) {
      this.healthPort = await this.health.listen(health.port, health.host);
      this.logger.info({ port: this.healthPort, host: health.host }, 'health endpoint listening');
    }
    // A paused twin of the job: its previousRuns() names the tick being run (see nominalTick).
    const pattern = new Cron(config.schedule.cron, {
      timezone: config.schedule.timezone,
      paused: true,
    });
    this.cron = new Cron(
      config.schedule.cron,
      {
        timezone: config.schedule.timezone,
        protect: (job) =>
          this.logger.warn(
            { startedAt: job.currentRun() },
            'previous scheduled run still going; this tick is skipped',
          ),
        catch: (err) =>
          this.logger.error({ err: asReconError(err).toJSON() }, 'scheduled run crashed'),
      },
      async () => {
        await this.tick(nominalTick(pattern));
      },
    );
    const deadline = config.alerts?.fileDeadline;
    if (deadline) {
      const [hh, mm] = deadline.split(':');
      this.deadlineCron = new Cron(
        `0 ${Number(mm)} ${Number(hh)} * * *`,
        { timezone: config.schedule.timezone },
        async () => {
          await this.checkArrivals();
        },
      );
    }
    this.logger.info(
      {
        cron: config.schedule.cron,
        timezone: config.schedule.timezone,
        nextRun: this.cron.nextRun()?.toISOString(),
      },
      'daemon scheduled',
    );
  }

  /**
   * One scheduled job: take the lease, run, release. `scheduledFor` (the tick's nominal time) names
   * the job in the lease, so a daemon whose clock lags cannot run a tick another already finished.
   * Null when the lease is held elsewhere, that job is done, or a run is going.
   */
  async tick(scheduledFor?: Date): Promise<RunSummary | null> {
    if (this.stopping || this.current) return null;
    const job = this.runOnce(scheduledFor);
    this.current = job;
    try {
      return await job;
    } finally {
      this.current = null;
    }
  }

  private async runOnce(scheduledFor?: Date): Promise<RunSummary | null> {
    const log = this.logger;
    const jobName = scheduledFor?.toISOString();
    if (this.lease) {
      const held = await this.lease.acquire(jobName).catch((err: unknown) => {
        this.lastError = asReconError(err).message;
        log.error({ err: asReconError(err).toJSON() }, 'could not take the lease');
        return null;
      });
      if (!held) {
        const r = this.lease.refusal;
        if (r)
          log.info(
            {
              job: jobName,
              holder: r.holder,
              token: r.token,
              heldJob: r.job,
              expiresAt: r.expiresAt,
            },
            r.reason === 'done'
              ? 'job already done by a daemon; not running'
              : 'lease held by another daemon; not running',
          );
        return null;
      }
      log.info({ token: held.token, job: jobName }, 'lease taken');
    }
    this.runAbort = new AbortController();
    const abort = this.runAbort;
    const ttl = this.schedule.leaseSeconds * 1000;
    const renew = this.lease
      ? setInterval(
          () => {
            void this.lease!.renew().then(
              (ok) => {
                if (!ok) {
                  log.error('lease lost while running; abandoning the run');
                  abort.abort();
                }
              },
              (err: unknown) =>
                log.warn({ err: asReconError(err).message }, 'lease renewal failed'),
            );
          },
          Math.max(1000, Math.floor(ttl / 3)),
        )
      : null;
    let finished = false;
    try {
      const run = await runReconciliation({
        loaded: this.loaded,
        logger: log,
        pool: this.pool,
        signal: abort.signal,
        force: this.schedule.force,
        beforeCommit: this.lease ? (runId) => this.lease!.fence(runId) : undefined,
      });
      // A run cut short by shutdown or a lost lease did not do the job; another daemon still may.
      finished = run.error?.code !== 'RECON_ABANDONED' && run.error?.code !== 'RECON_LEASE_LOST';
      this.lastRun = run;
      this.lastError = run.error?.message ?? null;
      this.health.record(run);
      if (run.status === 'committed' || run.status === 'skipped')
        for (const s of [...run.sourceNames, ...(run.skippedSources ?? [])])
          this.arrived.set(s, new Date());
      await afterRun(this.loaded, run, log);
      return run;
    } finally {
      if (renew) clearInterval(renew);
      this.runAbort = null;
      await this.lease
        ?.release({ finished })
        .catch((err: unknown) =>
          log.warn({ err: asReconError(err).message }, 'lease release failed'),
        );
    }
  }

  /** Alerts for every source that has not arrived since the start of today (schedule timezone). */
  async checkArrivals(now: Date = new Date()): Promise<string[]> {
    const tz = this.schedule.timezone;
    const today = dayInZone(now, tz);
    const missing = this.loaded.config.sources
      .map((s) => s.name)
      .filter((name) => {
        const at = this.arrived.get(name);
        return !at || dayInZone(at, tz) !== today;
      });
    for (const source of missing) {
      await sendAlert(
        this.loaded.config.alerts,
        {
          kind: 'file_missing',
          source,
          message: `no ${source} file reconciled by ${this.loaded.config.alerts?.fileDeadline} on ${today}`,
        },
        this.logger,
      );
    }
    return missing;
  }

  /**
   * Stops scheduling; a running run gets `graceMs` to finish, then is abandoned (marked failed).
   * Returns whether a run had to be abandoned.
   */
  async stop(graceMs?: number): Promise<{ abandoned: boolean }> {
    this.stopping = true;
    this.cron?.stop();
    this.deadlineCron?.stop();
    const grace = graceMs ?? this.schedule.graceSeconds * 1000;
    let abandoned = false;
    const running = this.current;
    if (running) {
      this.logger.info({ graceMs: grace }, 'stopping: waiting for the current run');
      let timer: NodeJS.Timeout | undefined;
      const finished = await Promise.race([
        running.then(
          () => true,
          () => true,
        ),
        new Promise<boolean>((r) => {
          timer = setTimeout(() => r(false), grace);
        }),
      ]);
      clearTimeout(timer);
      if (!finished) {
        this.logger.warn('grace period over: abandoning the current run');
        this.runAbort?.abort();
        // The abort reaches fetch, decode and write; a run already inside its commit cannot be
        // stopped and may still publish: report what happened. Whatever ignores the abort gets
        // ABANDON_BOUND_MS.
        let bound: NodeJS.Timeout | undefined;
        const run = await Promise.race([
          running.then(
            (r) => r,
            () => undefined,
          ),
          new Promise<'unfinished'>((r) => {
            bound = setTimeout(() => r('unfinished'), ABANDON_BOUND_MS);
          }),
        ]);
        clearTimeout(bound);
        if (run === 'unfinished')
          this.logger.error(
            { boundMs: ABANDON_BOUND_MS },
            'the abandoned run did not stop in time; exiting anyway (a later run marks it failed)',
          );
        abandoned = run === undefined || run === 'unfinished' || run?.status === 'failed';
      }
    }
    await this.pool.close();
    await this.health.close();
    this.logger.info({ abandoned }, 'daemon stopped');
    return { abandoned };
  }
}

/**
 * The nominal time of the tick being run: the latest time the pattern matches, at or before now
 * (croner fires a few ms after it, on this host's clock). Asked of a paused, stateless twin: the
 * live job's previousRuns() skips the run in progress and answers the tick before it.
 */
export function nominalTick(pattern: Cron, now: Date = new Date()): Date | undefined {
  // previousRuns() looks strictly before its argument, and at a whole second (ms = 0) croner steps
  // back a second first: fired exactly on the tick, it would name the tick before (for a daily
  // job, yesterday's, which the lease may record as done). One millisecond later avoids both.
  return pattern.previousRuns(1, new Date(now.getTime() + 1))[0];
}
