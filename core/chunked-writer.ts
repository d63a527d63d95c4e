/**
 * Bytes for a file stream, gathered in large buffers: one stream write per megabyte instead of one
 * per line, and a wait only when the stream's queue is long. The file writers of results and
 * reports (millions of lines on a bad day) go through it. A stream error is thrown by the next
 * `flush` or `end`.
 */
import { WriteStream } from 'node:fs';
import type { Writable } from 'node:stream';

/** Bytes gathered before one write to the stream (each write is a trip to a pool thread). */
const CHUNK_BYTES = 1 << 20;
/** Room past a full chunk, so that the line being written rarely needs a larger buffer. */
const SLACK_BYTES = 1 << 16;
/**
 * Chunks queued in the stream before `flush` waits, and what it waits for: the queue down to half,
 * so that the next chunks are formatted while the earlier ones are written. ('drain' comes only
 * when the queue is empty: waiting for it stopped the formatting during every chunk's write.)
 */
const QUEUED_CHUNKS = 4;
/** UTF-8 takes at most three bytes for each UTF-16 code unit. */
export const MAX_BYTES_PER_UNIT = 3;

export class ChunkedWriter {
  protected buf: Buffer;
  protected used = 0;
  /** The stream's first error, thrown by the next `flush` or `end`. */
  private failure: Error | null = null;
  /** Resumes a `flush` waiting for the queue to shrink. */
  private resume: (() => void) | null = null;
  /** Chunk buffers whose write is done, for the next chunks. */
  private readonly spare: Buffer[] = [];
  /**
   * Whether a chunk's buffer may be used again once its write is done: for a file, whose write
   * callback comes when the bytes are in the kernel. Other streams (a pass-through, a socket) may
   * still hold the chunk after their callback.
   */
  private readonly recycles: boolean;

  constructor(
    private readonly out: Writable,
    private readonly chunkBytes = CHUNK_BYTES,
  ) {
    this.buf = Buffer.allocUnsafe(chunkBytes + SLACK_BYTES);
    this.recycles = out instanceof WriteStream;
    out.on('error', this.written);
  }

  /** A chunk's write callback (and the stream's error listener). */
  private readonly written = (err?: Error | null): void => {
    if (err) this.failure ??= err;
    if (this.resume && (err || this.out.writableLength <= (QUEUED_CHUNKS / 2) * this.chunkBytes)) {
      const resume = this.resume;
      this.resume = null;
      resume();
    }
  };

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
    const full = this.buf;
    const chunk = full.subarray(0, this.used);
    // The stream keeps the chunk until it is written: what follows goes to another buffer (for a
    // file, one whose write is done when there is one). A fresh buffer per chunk cost a mapping
    // and its page faults each time, and its external memory made V8 collect more often.
    this.buf = this.spare.pop() ?? Buffer.allocUnsafe(this.chunkBytes + SLACK_BYTES);
    this.used = 0;
    if (this.failure) throw this.failure;
    this.out.write(chunk, (err?: Error | null) => {
      const whole = full.length === this.chunkBytes + SLACK_BYTES;
      if (!err && this.recycles && whole && this.spare.length < QUEUED_CHUNKS)
        this.spare.push(full);
      this.written(err);
    });
    if (this.out.writableLength > QUEUED_CHUNKS * this.chunkBytes)
      await new Promise<void>((resolve) => (this.resume = resolve));
    if (this.failure) throw this.failure;
  }

  /** Writes what is left and ends the stream once everything is written. */
  async end(): Promise<void> {
    await this.flush();
    if (this.failure) throw this.failure;
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
