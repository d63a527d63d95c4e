/**
 * The machine's limit for this job: one loop over the file's bytes in large chunks that only sums
 * the units field. Nothing can decode and aggregate the file faster than it can be read and scanned.
 */
import { closeSync, openSync, readSync } from 'node:fs';

export function limitLoop(file: string, headerLength: number, recordLength: number, records: number, unitsOffset: number, unitsSize: number): { total: number; ms: number } {
  const t0 = performance.now();
  const per = Math.floor((8 << 20) / recordLength);
  const buf = Buffer.allocUnsafe(per * recordLength);
  const fd = openSync(file, 'r');
  let total = 0;
  try {
    for (let first = 0; first < records; first += per) {
      const n = Math.min(per, records - first);
      readSync(fd, buf, 0, n * recordLength, headerLength + first * recordLength);
      for (let r = 0, base = 0; r < n; r++, base += recordLength) {
        if (buf[base] === 0x2a) continue;
        let v = 0;
        let neg = false;
        for (let i = base + unitsOffset, end = i + unitsSize; i < end; i++) {
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
