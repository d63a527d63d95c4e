/**
 * Stage 2, decode: every file is cut into record ranges that the pool decodes to numbers, sorted
 * into merge partitions; then each partition of a source is summed per key and judged against the
 * same partition of the ledger index of the source's day, in the pool. The result per source is its
 * HoldingTable: keys, sums and statuses in shared typed arrays.
 */
import type { EvidenceProblems, RangeRows } from '../dbf/decoder.js';
import { EVIDENCE_SAMPLES } from '../dbf/decoder.js';
import { assembleTable, type HoldingTable } from '../holding-table.js';
import type { KeySpace } from '../keys/key-space.js';
import type { PositionIndex } from '../position-index.js';
import type { RunContext } from './context.js';
import type { FilePlan, SourcePlan } from './plan.js';

/** How the run's rows are cut: merge partitions, and the ledger index they are judged against. */
export interface DecodeScope {
  space: KeySpace;
  partitions: number;
  /** Each as-of day's ledger index, when the ledger stage has built it. */
  indexes: Promise<Map<string, PositionIndex>>;
}

/** Each source's judged table, by source name. */
export type DecodedSources = Map<string, HoldingTable>;

export async function decodeSources(
  ctx: RunContext,
  plans: readonly SourcePlan[],
  scope: DecodeScope,
): Promise<DecodedSources> {
  ctx.progress?.start(totalRecords(plans));
  const out: DecodedSources = new Map();
  await Promise.all(
    plans.map(async (plan) => out.set(plan.config.name, await decodeSource(ctx, plan, scope))),
  );
  return out;
}

export function totalRecords(plans: readonly SourcePlan[]): number {
  return plans.reduce((n, p) => n + p.files.reduce((m, f) => m + f.layout.recordCount, 0), 0);
}

async function decodeSource(
  ctx: RunContext,
  plan: SourcePlan,
  scope: DecodeScope,
): Promise<HoldingTable> {
  const t0 = performance.now();
  const summary = plan.summary;
  const byFile = await Promise.all(
    plan.files.map((file) => decodeFile(ctx, plan, file, scope.partitions)),
  );
  const index = (await scope.indexes).get(plan.asOf)!;
  const table = await assembleTable(byFile.flat(), scope.space, index, ctx.tolerance, (task) =>
    ctx.pool.merge(task, ctx.signal),
  );
  summary.keys = table.size;
  summary.decodeMs = Math.round(performance.now() - t0);
  ctx.log.info(
    {
      source: plan.config.name,
      rows: summary.rows,
      deleted: summary.deleted,
      keys: summary.keys,
      ms: summary.decodeMs,
    },
    'source decoded',
  );
  return table;
}

/** One file's ranges, decoded in the pool: numbers in typed arrays, held until the merge. */
async function decodeFile(
  ctx: RunContext,
  plan: SourcePlan,
  file: FilePlan,
  partitions: number,
): Promise<RangeRows[]> {
  const rangeRecords = ctx.config.pool?.rangeRecords ?? 250_000;
  const ranges = splitRanges(file.layout.recordCount, ctx.pool.threads, rangeRecords);
  const decoded = await Promise.all(
    ranges.map(([start, end]) => decodeRange(ctx, plan, file, partitions, start, end)),
  );
  plan.summary.deleted += file.record.deleted;
  if (file.record.evidence.unreadable > 0) {
    ctx.log.warn(
      {
        source: plan.config.name,
        file: file.fetched.name,
        unreadable: file.record.evidence.unreadable,
        samples: file.record.evidence.samples,
      },
      'evidence values not readable; left absent',
    );
  }
  plan.summary.rows += file.record.records - file.record.deleted;
  return decoded;
}

async function decodeRange(
  ctx: RunContext,
  plan: SourcePlan,
  file: FilePlan,
  partitions: number,
  start: number,
  end: number,
): Promise<RangeRows> {
  const { rows, ms } = await ctx.pool.decode(
    {
      file: file.fetched.path,
      headerLength: file.layout.headerLength,
      recordLength: file.layout.recordLength,
      start,
      end,
      columns: file.columns,
      encoding: file.layout.encoding,
      pluginSpecifier: plan.specifier,
      partitions,
      asOf: file.asOf ?? undefined,
    },
    ctx.signal,
  );
  ctx.progress?.advance(end - start);
  ctx.log.debug(
    {
      source: plan.config.name,
      file: file.fetched.name,
      start,
      end,
      rows: rows.pid.length,
      ms: Math.round(ms),
    },
    'range decoded',
  );
  file.record.deleted += rows.deleted;
  plan.summary.navMissing = (plan.summary.navMissing ?? 0) + rows.navMissing;
  addEvidenceProblems(file.record.evidence, rows.evidence);
  return rows;
}

function addEvidenceProblems(to: EvidenceProblems, from: EvidenceProblems): void {
  to.unreadable += from.unreadable;
  for (const s of from.samples) if (to.samples.length < EVIDENCE_SAMPLES) to.samples.push(s);
  to.samples.sort((a, b) => a.record - b.record);
}

/**
 * Merge partitions for a run: every thread gets several, and each one's tables (~64k keys) stay in
 * a core's cache while it is merged and judged.
 */
export function mergePartitions(records: number, threads: number): number {
  if (records < 20_000) return 1;
  return Math.min(4096, Math.max(threads * 2, Math.ceil(records / 64_000)));
}

/**
 * Record ranges for one file: none larger than `rangeRecords`, and with several threads about four
 * per thread (of at least 50k records), so a thread slowed by a neighbour does not hold up the
 * rest.
 */
export function splitRanges(
  records: number,
  threads: number,
  rangeRecords: number,
): [number, number][] {
  if (records === 0) return [[0, 0]];
  let parts = Math.ceil(records / rangeRecords);
  if (threads > 1) parts = Math.max(parts, Math.min(threads * 4, Math.floor(records / 50_000)));
  if (records >= 20_000 && parts < threads) parts = threads;
  const size = Math.ceil(records / parts);
  const out: [number, number][] = [];
  for (let start = 0; start < records; start += size)
    out.push([start, Math.min(records, start + size)]);
  return out;
}
