import { closeSync, openSync, readSync } from 'node:fs';
import type { DbfLayout } from './layout.js';

/** The raw as-of text of the first live record (null when every record is deleted). */
export function peekFirstLive(
  layout: DbfLayout,
  field: { offset: number; size: number },
): { record: number; text: string } | null {
  const per = Math.max(1, Math.floor(65536 / layout.recordLength));
  const buf = Buffer.alloc(per * layout.recordLength);
  const fd = openSync(layout.file, 'r');
  try {
    for (let first = 0; first < layout.recordCount; first += per) {
      const count = Math.min(per, layout.recordCount - first);
      readSync(
        fd,
        buf,
        0,
        count * layout.recordLength,
        layout.headerLength + first * layout.recordLength,
      );
      for (let r = 0; r < count; r++) {
        const base = r * layout.recordLength;
        if (buf[base] === 0x2a) continue;
        return {
          record: first + r + 1,
          text: buf.toString('latin1', base + field.offset, base + field.offset + field.size),
        };
      }
    }
    return null;
  } finally {
    closeSync(fd);
  }
}
