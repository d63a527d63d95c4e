/**
 * The machine's limit for this job: one loop over the file's bytes in large chunks that only sums
 * the units field. Nothing can decode and aggregate the file faster than it can be read and
 * scanned. The same loop on two threads (each over half the records) shows how far this machine's
 * memory lets two threads scale at all, the context for our two-worker speedup.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

export interface LimitTask {
  file: string;
  headerLength: number;
  recordLength: number;
  start: number;
  end: number;
  unitsOffset: number;
  unitsSize: number;
}

export function limitLoop(t: LimitTask): { total: number; ms: number } {
  const t0 = performance.now();
  const per = Math.floor((8 << 20) / t.recordLength);
  const buf = Buffer.allocUnsafe(per * t.recordLength);
  const fd = openSync(t.file, 'r');
  let total = 0;
  try {
    for (let first = t.start; first < t.end; first += per) {
      const n = Math.min(per, t.end - first);
      readSync(fd, buf, 0, n * t.recordLength, t.headerLength + first * t.recordLength);
      for (let r = 0, base = 0; r < n; r++, base += t.recordLength) {
        if (buf[base] === 0x2a) continue;
        let v = 0;
        let neg = false;
        for (let i = base + t.unitsOffset, end = i + t.unitsSize; i < end; i++) {
          const c = buf[i];
          if (c >= 0x30 && c <= 0x39) v = v * 10 + (c - 0x30);
          else if (c === 0x2d) neg = true;
        }
        total += neg ? -v : v;
      }
    }
  } finally {
    closeSync(fd);
  }
  return { total, ms: performance.now() - t0 };
}

/**
 * The limit loop on `threads` threads, each over its share of the records; kept alive across
 * passes.
 */
export class ThreadedLimit {
  private readonly workers: Worker[];

  constructor(threads: number) {
    this.workers = Array.from(
      { length: threads },
      () => new Worker(new URL('./limit-worker.js', import.meta.url)),
    );
  }

  async run(t: LimitTask): Promise<{ total: number; ms: number }> {
    const t0 = performance.now();
    const k = this.workers.length;
    const parts = await Promise.all(
      this.workers.map(
        (w, i) =>
          new Promise<{ total: number }>((resolve, reject) => {
            // Each listener goes with the other's event: a pass must not leave one behind.
            const fail = (err: Error) => {
              w.off('message', done);
              reject(err);
            };
            const done = (m: { total: number }) => {
              w.off('error', fail);
              resolve(m);
            };
            w.once('message', done);
            w.once('error', fail);
            const start = t.start + Math.floor(((t.end - t.start) * i) / k);
            const end = t.start + Math.floor(((t.end - t.start) * (i + 1)) / k);
            w.postMessage({ ...t, start, end });
          }),
      ),
    );
    return { total: parts.reduce((s, p) => s + p.total, 0), ms: performance.now() - t0 };
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
