/**
 * Worker entry. `decode` loads the plugin by specifier (cached per thread) and decodes one record
 * range; `merge` sums and judges one merge partition; `ledgerRange` reads and sums one byte range
 * of an ndjson ledger; `sha256` hashes a file. Errors come back as plain data so their code
 * and context survive the thread boundary.
 */
import { asReconError, type SerializedError } from './errors.js';
import { sha256FileSync } from './file-digest.js';
import { decodeRange, type RangeRows, type RangeTask } from './dbf/decoder.js';
import { readLedgerRange, type LedgerRange, type LedgerRangeTask } from './ledger/ndjson-range.js';
import { mergePartition, type MergeTask, type PartitionTable } from './merge-judge.js';
import { loadPlugin } from './plugin.js';

export interface DecodeTask extends RangeTask {
  pluginSpecifier: string;
}

export type DecodeResult =
  { ok: true; rows: RangeRows; ms: number } | { ok: false; error: SerializedError };
export type MergeResult =
  { ok: true; table: PartitionTable; ms: number } | { ok: false; error: SerializedError };

export type Sha256Result = { ok: true; hex: string } | { ok: false; error: SerializedError };
export type LedgerRangeResult =
  { ok: true; range: LedgerRange } | { ok: false; error: SerializedError };

/**
 * Tasks are run by name; this is what piscina finds when a thread starts. Without a default export
 * it imports this module a second time, beside the require() it loaded it with, and on Node 22.18
 * an import() and a require() of one module in flight together can abort the process ("FATAL
 * ERROR: v8::Module::IsGraphAsync must be used on an instantiated module", seen once in CI).
 */
export default function unnamedTask(): never {
  throw new Error('pool tasks are run by name: decode, merge, ledgerRange or sha256');
}

export async function decode(task: DecodeTask): Promise<DecodeResult> {
  const started = performance.now();
  try {
    const plugin = await loadPlugin(task.pluginSpecifier);
    const rows = decodeRange(task, plugin);
    return { ok: true, rows, ms: performance.now() - started };
  } catch (err) {
    return { ok: false, error: asReconError(err).toJSON() };
  }
}

export function merge(task: MergeTask): MergeResult {
  const started = performance.now();
  try {
    return { ok: true, table: mergePartition(task), ms: performance.now() - started };
  } catch (err) {
    return { ok: false, error: asReconError(err).toJSON() };
  }
}

export function ledgerRange(task: LedgerRangeTask): LedgerRangeResult {
  try {
    return { ok: true, range: readLedgerRange(task) };
  } catch (err) {
    return { ok: false, error: asReconError(err).toJSON() };
  }
}

export function sha256(task: { path: string }): Sha256Result {
  try {
    return { ok: true, hex: sha256FileSync(task.path) };
  } catch (err) {
    return { ok: false, error: asReconError(err).toJSON() };
  }
}
