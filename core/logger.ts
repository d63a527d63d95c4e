/**
 * pino to stderr (stdout carries the summary or --json). JSON by default, pretty only on a TTY.
 * Secrets are redacted by key, and every URI in a logged value loses its credentials (redactDeep).
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';
import { REDACT_PATHS, redactDeep } from './redact.js';

export type { Logger };

export function createLogger(options: { level?: LevelWithSilent; pretty?: boolean; destination?: NodeJS.WritableStream } = {}): Logger {
  const base = {
    level: options.level ?? 'info', redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: undefined,
    formatters: { log: (object: Record<string, unknown>) => redactDeep(object) },
  };
  if (options.destination) return pino(base, options.destination as pino.DestinationStream);
  const pretty = options.pretty ?? process.stderr.isTTY === true;
  if (pretty) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { destination: 2, colorize: true, translateTime: 'SYS:HH:MM:ss' } } });
  }
  return pino(base, pino.destination({ fd: 2, sync: true }));
}
