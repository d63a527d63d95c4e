/**
 * pino to stderr (stdout carries the summary or --json). JSON lines unless stderr is a terminal;
 * on a terminal, pino-pretty formats each line in this thread and writes it synchronously, above
 * the progress bar when one is shown, so log lines never land inside the bar or after the summary.
 * Colour follows NO_COLOR / FORCE_COLOR (https://no-color.org), else whether stderr is a terminal.
 * Secrets are redacted by key, and every URI in a logged value loses its credentials (redactDeep).
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';
import pinoPretty from 'pino-pretty';
import { REDACT_PATHS, redactDeep } from './redact.js';

export type { Logger };

/**
 * Whether to colour output on a stream: NO_COLOR (non-empty) wins, then FORCE_COLOR (not 0/false),
 * then a terminal.
 */
export function useColor(
  stream: { isTTY?: boolean } = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (env.NO_COLOR) return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  return stream.isTTY === true;
}

/**
 * What is drawn on the last line of the terminal (the progress bar), redrawn after each log line.
 */
export interface StatusLine {
  render(): void;
}

let statusLine: StatusLine | null = null;

/** The progress bar registers here while it is shown, and unregisters (null) when it stops. */
export function setStatusLine(line: StatusLine | null): void {
  statusLine = line;
}

/** Writes to the terminal above the status line: clear the bar's line, write, redraw the bar. */
export function writeAboveStatus(
  text: string,
  stream: NodeJS.WritableStream = process.stderr,
): void {
  if (statusLine) {
    stream.write('\r\x1b[2K' + text);
    statusLine.render();
  } else {
    stream.write(text);
  }
}

export function createLogger(
  options: { level?: LevelWithSilent; pretty?: boolean; destination?: NodeJS.WritableStream } = {},
): Logger {
  const base = {
    level: options.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: undefined,
    formatters: { log: (object: Record<string, unknown>) => redactDeep(object) },
  };
  if (options.destination) return pino(base, options.destination as pino.DestinationStream);
  const pretty = options.pretty ?? process.stderr.isTTY === true;
  if (pretty) {
    const format = pinoPretty.prettyFactory({
      colorize: useColor(process.stderr),
      translateTime: 'SYS:HH:MM:ss',
    });
    return pino(base, { write: (line: string) => writeAboveStatus(format(line)) });
  }
  return pino(base, pino.destination({ fd: 2, sync: true }));
}
