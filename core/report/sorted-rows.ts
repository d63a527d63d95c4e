/**
 * A report's breaks in order without holding them all: rows are taken in runs of `runRows`, each
 * run is sorted, and when there is more than one run each goes to a temporary file (one JSON line
 * a break); reading merges the runs. Memory stays at one run whatever the number of breaks, and the
 * order is exactly that of sorting every row at once (stable: ties keep their reading order). Runs
 * double in length every RUNS_PER_SIZE runs, so a report of millions of breaks still merges a few
 * hundred files (each open while merging), not thousands.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ChunkedWriter } from '../chunked-writer.js';

/**
 * Breaks sorted in memory before the first runs go to disk: 10,000 rows of a report take about 10
 * MB; 50,000 made the XLSX report of 100,000 breaks peak 50 MB higher.
 */
export const RUN_ROWS = 10_000;
/** Runs of one length before the length doubles. */
export const RUNS_PER_SIZE = 64;
/**
 * Bytes read at a time from each run while merging: every run's buffer, its text and its lines are
 * held at once, so the merge's memory is this times the runs (400,000 breaks: 40 runs).
 */
const RUN_READ_BYTES = 16 << 10;

export class SortedRows<T> implements AsyncIterable<T> {
  private constructor(
    /** All rows, sorted, when they fit in one run. */
    private readonly inMemory: T[] | null,
    private readonly dir: string | null,
    private readonly runFiles: string[],
    private readonly order: (a: T, b: T) => number,
    /** How many rows, as an array says it. */
    readonly length: number,
  ) {}

  static async from<T>(
    rows: AsyncIterable<T>,
    order: (a: T, b: T) => number,
    runRows = RUN_ROWS,
    runsPerSize = RUNS_PER_SIZE,
  ): Promise<SortedRows<T>> {
    let run: T[] = [];
    let dir: string | null = null;
    const files: string[] = [];
    let count = 0;
    let size = runRows;
    const spill = async () => {
      dir ??= await mkdtemp(join(tmpdir(), 'recon-report-'));
      const file = join(dir, `run-${files.length}.ndjson`);
      files.push(file);
      const out = new ChunkedWriter(createWriteStream(file));
      for (const r of run.sort(order)) {
        out.write(JSON.stringify(r) + '\n');
        if (out.full) await out.flush();
      }
      await out.end();
      run = [];
      if (files.length % runsPerSize === 0) size *= 2;
    };
    try {
      for await (const r of rows) {
        run.push(r);
        count++;
        if (run.length >= size) await spill();
      }
      if (files.length === 0) return new SortedRows(run.sort(order), null, [], order, count);
      if (run.length > 0) await spill();
    } catch (err) {
      if (dir) await rm(dir, { recursive: true, force: true });
      throw err;
    }
    return new SortedRows<T>(null, dir, files, order, count);
  }

  /** Runs written to disk (0 when the rows fit in one). */
  get runs(): number {
    return this.runFiles.length;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.inMemory) {
      yield* this.inMemory;
      return;
    }
    const readers = this.runFiles.map((f) => {
      const input = createReadStream(f, { highWaterMark: RUN_READ_BYTES });
      return {
        input,
        lines: createInterface({ input, crlfDelay: Infinity })[Symbol.asyncIterator](),
      };
    });
    try {
      // A heap of the runs' current rows; a tie goes to the earlier run, as a stable sort would.
      const heap: { row: T; run: number }[] = [];
      const before = (a: { row: T; run: number }, b: { row: T; run: number }) =>
        (this.order(a.row, b.row) || a.run - b.run) < 0;
      const pull = async (run: number) => {
        const next = await readers[run].lines.next();
        return next.done ? null : { row: JSON.parse(next.value) as T, run };
      };
      for (let run = 0; run < readers.length; run++) {
        const head = await pull(run);
        if (head) push(heap, head, before);
      }
      while (heap.length > 0) {
        const top = heap[0];
        yield top.row;
        const next = await pull(top.run);
        if (next) replaceTop(heap, next, before);
        else popTop(heap, before);
      }
    } finally {
      for (const r of readers) {
        r.input.destroy();
        if (!r.input.closed) await once(r.input, 'close');
      }
    }
  }

  /** Removes the temporary files. */
  async close(): Promise<void> {
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

type Before<E> = (a: E, b: E) => boolean;

function push<E>(heap: E[], e: E, before: Before<E>): void {
  heap.push(e);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!before(heap[i], heap[parent])) break;
    [heap[i], heap[parent]] = [heap[parent], heap[i]];
    i = parent;
  }
}

function replaceTop<E>(heap: E[], e: E, before: Before<E>): void {
  heap[0] = e;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1,
      r = l + 1;
    let m = i;
    if (l < heap.length && before(heap[l], heap[m])) m = l;
    if (r < heap.length && before(heap[r], heap[m])) m = r;
    if (m === i) return;
    [heap[i], heap[m]] = [heap[m], heap[i]];
    i = m;
  }
}

function popTop<E>(heap: E[], before: Before<E>): void {
  const last = heap.pop()!;
  if (heap.length > 0) replaceTop(heap, last, before);
}
