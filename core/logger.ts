/**
 * pino to stderr (stdout carries the summary or --json). JSON by default, pretty only on a TTY.
 * Secrets are redacted by key, and URIs with credentials are scrubbed by the callers (redactUri).
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';
import { REDACT_PATHS } from './redact.js';

export type { Logger };

export function createLogger(options: { level?: LevelWithSilent; pretty?: boolean; destination?: NodeJS.WritableStream } = {}): Logger {
  const base = { level: options.level ?? 'info', redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: undefined };
  if (options.destination) return pino(base, options.destination as pino.DestinationStream);
  const pretty = options.pretty ?? process.stderr.isTTY === true;
  if (pretty) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { destination: 2, colorize: true, translateTime: 'SYS:HH:MM:ss' } } });
  }
  return pino(base, pino.destination({ fd: 2, sync: true }));
}
