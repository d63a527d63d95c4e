/**
 * The Piscina pool and the task contract. Only plain data crosses: a DecodeTask in (file path,
 * offsets, column layout, plugin specifier) and a range's rows out (typed arrays); a MergeTask in
 * (a partition's rows, the shared ledger index) and its judged table out; a LedgerRangeTask in
 * (an ndjson ledger's path, a byte range, the cut-offs and type rules) and its sums out; a
 * file path in and its sha256 out.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { reviveError } from './errors.js';
import type { RangeRows } from './dbf/decoder.js';
import type { LedgerRange, LedgerRangeTask } from './ledger/ndjson-range.js';
import type { MergeTask, PartitionTable } from './merge-judge.js';
import type {
  DecodeResult,
  DecodeTask,
  LedgerRangeResult,
  MergeResult,
  Sha256Result,
} from './worker.js';

/** How long closing the pool may wait for its threads to report their exit. */
const POOL_CLOSE_TIMEOUT_MS = 3_000;

export class ReconPool {
  private readonly piscina: Piscina;
  readonly threads: number;

  constructor(threads: number = availableParallelism()) {
    this.threads = threads;
    this.piscina = new Piscina({
      filename: new URL('./worker.js', import.meta.url).href,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 60_000,
    });
  }

  async decode(task: DecodeTask, signal?: AbortSignal): Promise<{ rows: RangeRows; ms: number }> {
    const result = (await this.piscina.run(task, { name: 'decode', signal })) as DecodeResult;
    if (!result.ok) throw reviveError(result.error);
    return { rows: result.rows, ms: result.ms };
  }

  async merge(task: MergeTask, signal?: AbortSignal): Promise<PartitionTable> {
    const result = (await this.piscina.run(task, { name: 'merge', signal })) as MergeResult;
    if (!result.ok) throw reviveError(result.error);
    return result.table;
  }

  async ledgerRange(task: LedgerRangeTask): Promise<LedgerRange> {
    const result = (await this.piscina.run(task, { name: 'ledgerRange' })) as LedgerRangeResult;
    if (!result.ok) throw reviveError(result.error);
    return result.range;
  }

  async sha256(path: string): Promise<string> {
    const result = (await this.piscina.run({ path }, { name: 'sha256' })) as Sha256Result;
    if (!result.ok) throw reviveError(result.error);
    return result.hex;
  }

  /**
   * Ends the threads. On Node 22 under CPU load a worker's exit can go unreported, and piscina's
   * close() and destroy() then never resolve (seen: a committed run that never returned). The wait
   * is bounded, so a finished run still returns; the CLI exits even if a thread's port lingers.
   */
  async close(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const bounded = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), POOL_CLOSE_TIMEOUT_MS);
      timer.unref();
    });
    try {
      await Promise.race([this.piscina.destroy(), bounded]);
    } finally {
      clearTimeout(timer);
    }
  }
}
