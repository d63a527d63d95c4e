/**
 * The daemon's health and metrics endpoints, bound to 127.0.0.1 by default:
 *   GET /healthz  JSON: status, last run id and status, next run time
 * GET /metrics Prometheus text: last run time, status and duration; stage times; rows, results by
 *                 status and decode time per source
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

export class HealthServer {
  private readonly registry = new Registry();
  private readonly lastRunTime = new Gauge({
    name: 'recon_last_run_timestamp_seconds',
    help: 'When the last run finished',
    registers: [this.registry],
  });
  private readonly lastRunStatus = new Gauge({
    name: 'recon_last_run_status',
    help: '1 for the status of the last run',
    labelNames: ['status'],
    registers: [this.registry],
  });
  private readonly lastRunDuration = new Gauge({
    name: 'recon_last_run_duration_seconds',
    help: 'Duration of the last run',
    registers: [this.registry],
  });
  private readonly stageDuration = new Gauge({
    name: 'recon_last_run_stage_seconds',
    help: 'Time per stage of the last run',
    labelNames: ['stage'],
    registers: [this.registry],
  });
  private readonly sourceRows = new Gauge({
    name: 'recon_source_rows',
    help: 'Live file rows of the last run, per source',
    labelNames: ['source'],
    registers: [this.registry],
  });
  private readonly sourceBreaks = new Gauge({
    name: 'recon_source_results',
    help: 'Results of the last run per source and status',
    labelNames: ['source', 'status'],
    registers: [this.registry],
  });
  private readonly sourceBreakTotal = new Gauge({
    name: 'recon_source_breaks',
    help: 'Breaks (mismatched, dbf_only, mongo_only) of the last run, per source',
    labelNames: ['source'],
    registers: [this.registry],
  });
  private readonly sourceDuration = new Gauge({
    name: 'recon_source_decode_seconds',
    help: 'Time to decode the files of the last run, per source',
    labelNames: ['source'],
    registers: [this.registry],
  });
  private server: Server | null = null;

  constructor(private readonly state: () => HealthState) {}

  record(run: RunSummary): void {
    const finished = run.finishedAt ?? new Date();
    this.lastRunTime.set(finished.getTime() / 1000);
    for (const s of ['committed', 'failed', 'skipped', 'running'])
      this.lastRunStatus.set({ status: s }, s === run.status ? 1 : 0);
    this.lastRunDuration.set((finished.getTime() - run.startedAt.getTime()) / 1000);
    this.stageDuration.reset();
    for (const [stage, ms] of Object.entries(run.timingsMs))
      this.stageDuration.set({ stage }, ms / 1000);
    this.sourceRows.reset();
    this.sourceBreaks.reset();
    this.sourceDuration.reset();
    this.sourceBreakTotal.reset();
    for (const [name, s] of Object.entries(run.sources)) {
      this.sourceRows.set({ source: name }, s.rows);
      if (s.decodeMs !== undefined) this.sourceDuration.set({ source: name }, s.decodeMs / 1000);
      for (const st of STATUSES) this.sourceBreaks.set({ source: name, status: st }, s.counts[st]);
      this.sourceBreakTotal.set(
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
