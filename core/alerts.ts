/**
 * Webhook alerts: a JSON POST when a run failed, when new breaks exceed the configured count, or
 * (daemon) when a source's file has not arrived by the configured time. Delivery failures are
 * logged and never fail the run.
 */
import type { ReconConfig } from '../config/schema.js';
import { redactUri } from './redact.js';
import type { Logger } from './logger.js';
import type { RunSummary } from './store/types.js';

export type AlertKind = 'run_failed' | 'new_breaks' | 'file_missing';

export interface Alert {
  kind: AlertKind;
  message: string;
  runId?: string;
  [key: string]: unknown;
}

export async function sendAlert(
  config: ReconConfig['alerts'],
  alert: Alert,
  log: Logger,
): Promise<boolean> {
  if (!config) return false;
  try {
    const res = await fetch(config.webhook, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ app: 'brokerage-recon', at: new Date().toISOString(), ...alert }),
      signal: AbortSignal.timeout(config.timeoutSeconds * 1000),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    log.info({ kind: alert.kind }, 'alert delivered');
    return true;
  } catch (err) {
    log.warn(
      { kind: alert.kind, webhook: redactUri(config.webhook), err: (err as Error).message },
      'alert not delivered',
    );
    return false;
  }
}

/** The alerts a finished run calls for. */
export function alertsFor(run: RunSummary, config: ReconConfig['alerts']): Alert[] {
  if (!config) return [];
  const out: Alert[] = [];
  if (run.status === 'failed') {
    out.push({
      kind: 'run_failed',
      runId: run.runId,
      message: `run ${run.runId} failed: ${run.error?.code}: ${run.error?.message}`,
      error: run.error,
    });
  }
  // Reopened breaks are news too; immaterial ones never alert.
  const fresh =
    (run.breaks?.new ?? 0) + (run.breaks?.reopened ?? 0) - (run.breaks?.immaterialNew ?? 0);
  if (run.status === 'committed' && fresh > config.newBreaksThreshold) {
    out.push({
      kind: 'new_breaks',
      runId: run.runId,
      message: `${fresh} new breaks (threshold ${config.newBreaksThreshold})`,
      newBreaks: fresh,
      counts: run.counts,
      asOf: Object.fromEntries(Object.entries(run.sources).map(([s, v]) => [s, v.asOf])),
    });
  }
  return out;
}
