/**
 * The Piscina pool and the task contract. Only plain data crosses: a DecodeTask in (file path,
 * offsets, column layout, plugin specifier) and a RangeAggregate out (parallel arrays).
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { reviveError } from './errors.js';
import type { RangeAggregate } from './dbf/projection.js';
import type { DecodeResult, DecodeTask } from './worker.js';

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

  async decode(task: DecodeTask, signal?: AbortSignal): Promise<{ aggregate: RangeAggregate; ms: number }> {
    const result = await this.piscina.run(task, { signal }) as DecodeResult;
    if (!result.ok) throw reviveError(result.error);
    return { aggregate: result.aggregate, ms: result.ms };
  }

  async close(): Promise<void> {
    await this.piscina.close({ force: true });
  }
}
