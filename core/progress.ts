/**
 * Progress of long decodes: a bar on stderr when it is a terminal (log lines are written above it,
 * see logger.ts), otherwise a log line at most every five seconds.
 */
import cliProgress from 'cli-progress';
import type { Progress } from './engine.js';
import { setStatusLine, type Logger } from './logger.js';

export function createProgress(
  logger: Logger,
  tty: boolean = process.stderr.isTTY === true,
): Progress {
  if (tty) {
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: 'decode [{bar}] {percentage}% {value}/{total} records {eta_formatted}',
        hideCursor: true,
        clearOnComplete: true,
        forceRedraw: true,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      start(total) {
        bar.start(total, 0);
        started = true;
        setStatusLine({ render: () => bar.render() });
      },
      advance(n) {
        if (started) bar.increment(n);
      },
      stop() {
        if (started) {
          setStatusLine(null);
          bar.stop();
        }
        started = false;
      },
    };
  }
  let total = 0;
  let done = 0;
  let last = 0;
  return {
    start(t) {
      total = t;
      done = 0;
      last = Date.now();
    },
    advance(n) {
      done += n;
      if (Date.now() - last >= 5000) {
        last = Date.now();
        logger.info({ records: done, total }, 'decode progress');
      }
    },
    stop() {},
  };
}
