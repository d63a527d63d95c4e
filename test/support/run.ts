/** One reconciliation run as the suites start it: the engine in process, logs silenced. */
import { runReconciliation, type RunOptions } from '../../core/engine.js';
import { createLogger } from '../../core/logger.js';
import type { LoadedConfig } from '../../config/load.js';
import type { RunSummary } from '../../core/store/types.js';

export const quietLogger = createLogger({ level: 'silent' });

export function runOnce(
  loaded: LoadedConfig,
  options: Partial<Omit<RunOptions, 'loaded'>> = {},
): Promise<RunSummary> {
  return runReconciliation({ loaded, logger: quietLogger, ...options });
}
