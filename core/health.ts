/**
 * The daemon's health and metrics endpoints, bound to 127.0.0.1 by default:
 *   GET /healthz  JSON: status, last run id and status, next run time
 *   GET /metrics  Prometheus text: last run time, status and duration; stage times; rows,
 *                 results by status and decode time per source
 */
import { createServer, type Server } from 'node:http';
import { Gauge, Registry } from 'prom-client';
import { STATUSES } from './reconcile.js';
import type { RunSummary } from './store/types.js';

export interface HealthState {
  /** idle, running or stopping. */
  state: string;
  lastRun: RunSummary | null;
  nextRun: Date | null;
  lastError: string | null;
}

/** The gauges /metrics serves: name, help and labels. */
const METRICS = {
  lastRunTime: ['recon_last_run_timestamp_seconds', 'When the last run finished', []],
  lastRunStatus: ['recon_last_run_status', '1 for the status of the last run', ['status']],
  lastRunDuration: ['recon_last_run_duration_seconds', 'Duration of the last run', []],
  stageDuration: ['recon_last_run_stage_seconds', 'Time per stage of the last run', ['stage']],
  sourceRows: ['recon_source_rows', 'Live file rows of the last run, per source', ['source']],
  sourceBreaks: [
    'recon_source_results',
    'Results of the last run per source and status',
    ['source', 'status'],
  ],
  sourceBreakTotal: [
    'recon_source_breaks',
    'Breaks (mismatched, dbf_only, mongo_only) of the last run, per source',
    ['source'],
  ],
  sourceDuration: [
    'recon_source_decode_seconds',
    'Time to decode the files of the last run, per source',
    ['source'],
  ],
} satisfies Record<string, [string, string, string[]]>;

function gauges(registry: Registry): Record<keyof typeof METRICS, Gauge> {
  return Object.fromEntries(
    Object.entries(METRICS).map(([key, [name, help, labelNames]]) => [
      key,
      new Gauge({ name, help, labelNames, registers: [registry] }),
    ]),
  ) as Record<keyof typeof METRICS, Gauge>;
}

export class HealthServer {
  private readonly registry = new Registry();
  private readonly gauges = gauges(this.registry);
  private server: Server | null = null;

  constructor(private readonly state: () => HealthState) {}

  record(run: RunSummary): void {
    const finished = run.finishedAt ?? new Date();
    this.gauges.lastRunTime.set(finished.getTime() / 1000);
    for (const s of ['committed', 'failed', 'skipped', 'running'])
      this.gauges.lastRunStatus.set({ status: s }, s === run.status ? 1 : 0);
    this.gauges.lastRunDuration.set((finished.getTime() - run.startedAt.getTime()) / 1000);
    this.gauges.stageDuration.reset();
    for (const [stage, ms] of Object.entries(run.timingsMs))
      this.gauges.stageDuration.set({ stage }, ms / 1000);
    this.gauges.sourceRows.reset();
    this.gauges.sourceBreaks.reset();
    this.gauges.sourceDuration.reset();
    this.gauges.sourceBreakTotal.reset();
    for (const [name, s] of Object.entries(run.sources)) {
      this.gauges.sourceRows.set({ source: name }, s.rows);
      if (s.decodeMs !== undefined)
        this.gauges.sourceDuration.set({ source: name }, s.decodeMs / 1000);
      for (const st of STATUSES)
        this.gauges.sourceBreaks.set({ source: name, status: st }, s.counts[st]);
      this.gauges.sourceBreakTotal.set(
        { source: name },
        s.counts.mismatched + s.counts.dbf_only + s.counts.mongo_only,
      );
    }
  }

  async listen(port: number, host: string): Promise<number> {
    this.server = createServer((req, res) => {
      void (async () => {
        if (req.method === 'GET' && req.url === '/healthz') {
          const st = this.state();
          const body = {
            status: st.lastRun?.status === 'failed' ? 'degraded' : 'ok',
            state: st.state,
            lastRun: st.lastRun
              ? {
                  id: st.lastRun.runId,
                  status: st.lastRun.status,
                  startedAt: st.lastRun.startedAt,
                  finishedAt: st.lastRun.finishedAt,
                  error: st.lastRun.error?.code ?? null,
                }
              : null,
            nextRun: st.nextRun?.toISOString() ?? null,
            lastError: st.lastError,
          };
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        } else if (req.method === 'GET' && req.url === '/metrics') {
          res
            .writeHead(200, { 'content-type': this.registry.contentType })
            .end(await this.registry.metrics());
        } else {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        }
      })().catch(() => res.writeHead(500).end());
    });
    const server = this.server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    return (server.address() as { port: number }).port;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server)
      await new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      });
  }
}
