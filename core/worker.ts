/**
 * Worker entry. Loads the plugin by specifier (cached per thread), decodes one record range and
 * returns its aggregate. Errors come back as plain data so their code and context survive the
 * thread boundary.
 */
import { asReconError, type SerializedError } from './errors.js';
import { decodeRange, type RangeAggregate, type RangeTask } from './dbf/projection.js';
import { loadPlugin } from './plugin.js';

export interface DecodeTask extends RangeTask {
  pluginSpecifier: string;
}

export type DecodeResult = { ok: true; aggregate: RangeAggregate; ms: number } | { ok: false; error: SerializedError };

export default async function decode(task: DecodeTask): Promise<DecodeResult> {
  const started = performance.now();
  try {
    const plugin = await loadPlugin(task.pluginSpecifier);
    const aggregate = decodeRange(task, plugin);
    return { ok: true, aggregate, ms: performance.now() - started };
  } catch (err) {
    return { ok: false, error: asReconError(err).toJSON() };
  }
}
