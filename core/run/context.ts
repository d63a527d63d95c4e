/**
 * What every stage of a run is handed: the configuration, the run document being filled in, and
 * the services the run opened (store, ledger, pool). Stages take their inputs and return their
 * outputs as named values; this is only the run's surroundings.
 */
import type { ReconConfig } from '../../config/schema.js';
import { ReconError } from '../errors.js';
import type { LedgerAdapter } from '../ledger/types.js';
import type { Logger } from '../logger.js';
import type { ReconPool } from '../pool.js';
import type { ResultStore, RunSummary } from '../store/types.js';

export interface Progress {
  start(totalRecords: number): void;
  advance(records: number): void;
  stop(): void;
}

export interface RunContext {
  config: ReconConfig;
  baseDir: string;
  run: RunSummary;
  log: Logger;
  store: ResultStore;
  ledger: LedgerAdapter;
  pool: ReconPool;
  timer: StageTimer;
  /** Units tolerance, ten-thousandths. */
  tolerance: number;
  signal?: AbortSignal;
  progress?: Progress;
}

export interface StageTimer {
  /** Runs one stage and records its wall time in the run's `timingsMs`. */
  time<T>(stage: string, fn: () => Promise<T>): Promise<T>;
}

export function stageTimer(run: RunSummary): StageTimer {
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

export function abandoned(): ReconError {
  return new ReconError(
    'RECON_ABANDONED',
    'run abandoned: shutdown requested before it could finish',
  );
}

export function abortIfAsked(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abandoned();
}
