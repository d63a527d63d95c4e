/**
 * Bytes for a file stream, gathered in large buffers: one stream write per megabyte instead of one
 * per line, and a wait for the stream to drain only when a buffer did not fit in its queue. The
 * file writers of results and reports (millions of lines on a bad day) go through it.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';

/** Bytes gathered before one write to the stream. */
const CHUNK_BYTES = 1 << 20;
/** Room past a full chunk, so that the line being written rarely needs a larger buffer. */
const SLACK_BYTES = 1 << 16;
/**
 * Chunks a file stream queues before `flush` waits: the next chunks are formatted while the disk
 * writes the earlier ones (with the stream's default 16 KiB every chunk waited for its write).
 */
const QUEUED_CHUNKS = 8;
/** UTF-8 takes at most three bytes for each UTF-16 code unit. */
export const MAX_BYTES_PER_UNIT = 3;

export class ChunkedWriter {
  protected buf: Buffer;
  protected used = 0;

  constructor(
    private readonly out: Writable,
    private readonly chunkBytes = CHUNK_BYTES,
  ) {
    this.buf = Buffer.allocUnsafe(chunkBytes + SLACK_BYTES);
  }

  /** Adds text; it reaches the stream with `flush` or `end`. */
  write(text: string): void {
    this.room(text.length * MAX_BYTES_PER_UNIT);
    this.used += this.buf.write(text, this.used);
  }

  /** A chunk is gathered: time to `flush` (checked without a promise per line). */
  get full(): boolean {
    return this.used >= this.chunkBytes;
  }

  async flush(): Promise<void> {
    if (this.used === 0) return;
    const chunk = this.buf.subarray(0, this.used);
    // The stream keeps the chunk until it is written: what follows goes to a new buffer.
    this.buf = Buffer.allocUnsafe(this.chunkBytes + SLACK_BYTES);
    this.used = 0;
    if (!this.out.write(chunk)) await once(this.out, 'drain');
  }

  /** Writes what is left and ends the stream once everything is written. */
  async end(): Promise<void> {
    await this.flush();
    const out = this.out;
    await new Promise<void>((resolve, reject) =>
      out.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
  }

  /** At least `bytes` free past `used`: a larger buffer (rare: a line longer than the slack). */
  protected room(bytes: number): void {
    if (this.used + bytes <= this.buf.length) return;
    const next = Buffer.allocUnsafe(this.used + bytes + SLACK_BYTES);
    this.buf.copy(next, 0, 0, this.used);
    this.buf = next;
  }
}

/** A file stream for a ChunkedWriter: it queues several chunks before it asks for a wait. */
export function chunkedFileStream(path: string): Writable {
  return createWriteStream(path, { highWaterMark: QUEUED_CHUNKS * CHUNK_BYTES });
}
