/**
 * Stage 3, explain: every file key the merge judged is written, matched rows at once; then the
 * ledger positions no file lists are judged (mongo_only, by the owner of their product code), and
 * every break is explained (pledged, timing, a probable key mismatch paired across both sides),
 * valued, aged against the previous run, and written. The previous run's breaks that are gone are
 * listed as resolved. A break stays a position in its source's table (a number, not a row) until
 * it is written: a bad day can make millions of them.
 */
import type { SourceConfig } from '../../config/schema.js';
import {
  ageBreak,
  breakId,
  previousById,
  resolvedBreaks,
  type LifecycleSummary,
  type PreviousBreak,
} from '../breaks/lifecycle.js';
import {
  groupKey,
  pairKeyMismatch,
  pairingGroups,
  rowReason,
  type NextDayMovements,
} from '../breaks/reasons.js';
import { valueBreak, ValueTotals, type ValueGroup } from '../breaks/value.js';
import { endOfDayUtc, nextDay } from '../day-boundary.js';
import type { HoldingTable } from '../holding-table.js';
import { keyOf } from '../keys/text-key.js';
import type { Cutoff, LedgerSnapshot } from '../ledger/types.js';
import { findMongoOnly, type ReconRow, type SourceDay } from '../reconcile.js';
import { createReader } from '../store/reader.js';
import type { RunContext } from './context.js';
import type { DecodedSources } from './decode.js';
import type { SourcePlan } from './plan.js';
import type { RowSink } from './publish.js';

export interface ExplainInput {
  plans: readonly SourcePlan[];
  tables: DecodedSources;
  snapshots: readonly LedgerSnapshot[];
  cutoffs: readonly Cutoff[];
  timezone: string;
  /** Breaks worth less than this (paise) are immaterial. */
  materiality: number;
}

/** What the run document records of the explain stage. */
export interface Explained {
  /** Ledger positions that net to zero and no file lists. */
  closedPositions: number;
  breaks: LifecycleSummary;
  values: ValueGroup[];
  /** Breaks below materiality (absent when none). */
  immaterial?: number;
  /** Stage times (ms): explaining, writing, and the rest of reconciling. */
  timingsMs: { explain: number; write: number; reconcile: number };
}

/** A source's judged table, with the positions of its breaks. */
interface JudgedSource {
  src: SourceDay;
  table: HoldingTable;
  /** Positions of the keys judged other than matched, in order. */
  breaks: Int32Array;
}

/** What a break is explained, valued and aged with. */
interface BreakEvidence {
  nextDay: Map<string, NextDayMovements>;
  previous: Map<string, PreviousBreak>;
  /** The ledger's latest NAV of the keys that need one, per as-of day. */
  ledgerNavs: Map<string, Map<string, number>>;
  /** Breaks resolved on an earlier day: the day, by break id. */
  reopenable: Map<string, string>;
}

export async function explainRun(
  ctx: RunContext,
  input: ExplainInput,
  sink: RowSink,
): Promise<Explained> {
  const t0 = performance.now();
  const judged = await writeMatched(input, sink);
  const { rows: mongoOnly, closed } = await mongoOnlyRows(ctx, input, judged);
  const tExplain = performance.now();
  const writeMsBefore = sink.ms;
  const evidence = await breakEvidence(ctx, input, judged, mongoOnly);
  const built = pairBreaks(judged, mongoOnly, evidence.nextDay);
  const lifecycle: LifecycleSummary = {
    new: 0,
    persisting: 0,
    changed: 0,
    reopened: 0,
    resolved: [],
  };
  const values = new ValueTotals();
  let immaterial = 0;
  const finish = (row: ReconRow) => {
    if (finishBreak(row, evidence, input.materiality, lifecycle)) immaterial++;
    values.add(row);
    return sink.write(row);
  };
  // `await` only when a batch is being written: awaiting nothing still costs a turn per row.
  for (const [j, source] of judged.entries())
    for (const i of source.breaks) {
      const writing = finish(built[j].get(i) ?? explainedRow(source, i, evidence.nextDay));
      if (writing) await writing;
    }
  for (const r of mongoOnly) {
    const writing = finish(r);
    if (writing) await writing;
  }
  lifecycle.resolved = resolved(ctx, input, judged, mongoOnly, evidence.previous);
  await sink.flush();
  const explain = Math.round(performance.now() - tExplain - (sink.ms - writeMsBefore));
  const write = Math.round(sink.ms);
  const reconcile = Math.round(performance.now() - t0 - sink.ms - explain);
  const rowsPerSecond = Math.round(sink.written / (Math.max(sink.ms, 1) / 1000));
  ctx.log.info({ rows: sink.written, ms: write, rowsPerSecond }, 'results written');
  return {
    closedPositions: closed,
    ...(immaterial > 0 ? { immaterial } : {}),
    breaks: lifecycle,
    values: values.list(),
    timingsMs: { explain, write, reconcile },
  };
}

/** Writes every matched row and keeps the positions of the breaks. */
async function writeMatched(input: ExplainInput, sink: RowSink): Promise<JudgedSource[]> {
  const judged: JudgedSource[] = [];
  for (const plan of input.plans) {
    const table = input.tables.get(plan.config.name)!;
    const src = { source: plan.config.name, asOf: plan.asOf, decimals: plan.decimals };
    const breaks = table.breakPositions();
    for (let i = 0, b = 0; i < table.size; i++) {
      if (b < breaks.length && breaks[b] === i) b++;
      else {
        const writing = sink.write(table.rowAt(src, i));
        if (writing) await writing;
      }
    }
    judged.push({ src, table, breaks });
  }
  return judged;
}

/**
 * The registrar that services a product code: the first source whose files list it, else the
 * first whose `productCodePatterns` match it, else null.
 */
function ownership(
  judged: readonly JudgedSource[],
  sources: readonly SourceConfig[],
): (productCode: string) => string | null {
  const listedBy = new Map<string, string>();
  for (const j of judged)
    for (const productCode of j.table.productCodes())
      if (!listedBy.has(productCode)) listedBy.set(productCode, j.src.source);
  const patterns = sources.map((s) => ({
    name: s.name,
    res: (s.productCodePatterns ?? []).map((p) => new RegExp(p)),
  }));
  return (productCode) =>
    listedBy.get(productCode) ??
    patterns.find((p) => p.res.some((re) => re.test(productCode)))?.name ??
    null;
}

/** Ledger positions no file lists, with their scheme names; closed ones are counted. */
async function mongoOnlyRows(
  ctx: RunContext,
  input: ExplainInput,
  judged: readonly JudgedSource[],
): Promise<{ rows: ReconRow[]; closed: number }> {
  const mongoOnly = findMongoOnly({
    positionsByDay: new Map(input.snapshots.map((s) => [s.asOf, s.positions])),
    ownerOf: ownership(judged, ctx.config.sources),
    includeUnowned: ctx.run.allSources,
    tolerance: ctx.tolerance,
    listed: (productCode, folio) => judged.some((j) => j.table.has(productCode, folio)),
    sources: judged.map((j) => j.src),
  });
  const names = await ctx.ledger.schemeNames(
    mongoOnly.rows.map((r) => ({ productCode: r.productCode, folio: r.folio })),
  );
  for (const r of mongoOnly.rows) r.schemeName = names.get(keyOf(r.productCode, r.folio)) ?? null;
  return mongoOnly;
}

/** Reads what breaks are explained, valued and aged with; mongo_only rows get their reasons. */
async function breakEvidence(
  ctx: RunContext,
  input: ExplainInput,
  judged: readonly JudgedSource[],
  mongoOnly: readonly ReconRow[],
): Promise<BreakEvidence> {
  const { ledger, store } = ctx;
  const lastDay = input.cutoffs.at(-1)!.asOf;
  const nextDayMoves = new Map<string, NextDayMovements>();
  for (const c of input.cutoffs) {
    const end = endOfDayUtc(nextDay(c.asOf), input.timezone);
    nextDayMoves.set(c.asOf, await ledger.movements(c.cutoff, end));
  }
  const previous: PreviousBreak[] = [];
  // A loop, not push(...list): spreading a list of a few hundred thousand overflows the stack.
  const addPrevious = (list: PreviousBreak[]) => {
    for (const b of list) previous.push(b);
  };
  for (const j of judged) addPrevious(await store.previousBreaks(j.src.source, j.src.asOf));
  if (ctx.run.allSources) addPrevious(await store.previousBreaks(null, lastDay));
  const navKeys = navWanted(judged, mongoOnly);
  const ledgerNavs = new Map<string, Map<string, number>>();
  for (const c of input.cutoffs) {
    const keys = navKeys.get(c.asOf);
    ledgerNavs.set(c.asOf, keys ? await ledger.latestNavs(c.cutoff, keys) : new Map());
  }
  // A break that was resolved on an earlier day and is back is reopened, not new.
  const reopenable = await createReader(ctx.config, ctx.baseDir).resolvedBefore(lastDay);
  for (const r of mongoOnly) r.reason = rowReason(r, nextDayMoves.get(r.asOf));
  return { nextDay: nextDayMoves, previous: previousById(previous), ledgerNavs, reopenable };
}

/**
 * Keys whose break needs the ledger's NAV, per as-of day: mismatched keys the file gave no NAV for,
 * and every mongo_only key.
 */
function navWanted(
  judged: readonly JudgedSource[],
  mongoOnly: readonly ReconRow[],
): Map<string, { productCode: string; folio: string }[]> {
  const out = new Map<string, { productCode: string; folio: string }[]>();
  const want = (asOf: string, productCode: string, folio: string) => {
    const list = out.get(asOf) ?? [];
    list.push({ productCode, folio });
    out.set(asOf, list);
  };
  for (const { src, table, breaks } of judged)
    for (const i of breaks)
      if (table.statusAt(i) === 'mismatched' && table.navAt(i) === null)
        want(src.asOf, table.productCodeAt(i), table.folioAt(i));
  for (const r of mongoOnly) want(r.asOf, r.productCode, r.folio);
  return out;
}

/** A break's row with the reason it carries alone (pledged or timing). */
function explainedRow(
  source: JudgedSource,
  i: number,
  nextDayMoves: ReadonlyMap<string, NextDayMovements>,
): ReconRow {
  const row = source.table.rowAt(source.src, i);
  row.reason = rowReason(row, nextDayMoves.get(row.asOf));
  return row;
}

/**
 * Pairs dbf_only breaks with mongo_only rows of their (source, product). Only dbf_only rows of a
 * group that has a mongo_only row can pair; those are made here, once, and kept (per source, by
 * position) until they are written.
 */
function pairBreaks(
  judged: readonly JudgedSource[],
  mongoOnly: readonly ReconRow[],
  nextDayMoves: ReadonlyMap<string, NextDayMovements>,
): Map<number, ReconRow>[] {
  const groups = pairingGroups(mongoOnly);
  return judged.map((source) => {
    const built = new Map<number, ReconRow>();
    if (groups.size === 0) return built;
    const { table, src } = source;
    for (const i of source.breaks) {
      if (table.statusAt(i) !== 'dbf_only') continue;
      if (!groups.has(groupKey(src.source, table.productCodeAt(i)))) continue;
      const row = explainedRow(source, i, nextDayMoves);
      pairKeyMismatch(row, groups);
      built.set(i, row);
    }
    return built;
  });
}

/**
 * Values and ages a break; a new break that an earlier run had resolved is reopened. True when the
 * break is immaterial.
 */
function finishBreak(
  row: ReconRow,
  evidence: BreakEvidence,
  materiality: number,
  lifecycle: LifecycleSummary,
): boolean {
  const navs = evidence.ledgerNavs.get(row.asOf);
  const ledgerNav =
    navs !== undefined && navs.size > 0 ? navs.get(keyOf(row.productCode, row.folio)) : undefined;
  valueBreak(row, ledgerNav, materiality);
  ageBreak(row, evidence.previous, lifecycle);
  const resolvedOn =
    row.lifecycle === 'new' && evidence.reopenable.size > 0
      ? evidence.reopenable.get(breakId(row.source, row.productCode, row.folio))
      : undefined;
  if (resolvedOn !== undefined && resolvedOn < row.asOf) {
    row.lifecycle = 'reopened';
    row.reopenedAfter = resolvedOn;
    lifecycle.new--;
    lifecycle.reopened++;
  }
  if (!row.immaterial) return false;
  if (row.lifecycle === 'new' || row.lifecycle === 'reopened')
    lifecycle.immaterialNew = (lifecycle.immaterialNew ?? 0) + 1;
  return true;
}

/** The previous run's breaks, in a source this run covers, that are no longer breaks. */
function resolved(
  ctx: RunContext,
  input: ExplainInput,
  judged: readonly JudgedSource[],
  mongoOnly: readonly ReconRow[],
  previous: ReadonlyMap<string, PreviousBreak>,
) {
  const mongoOnlyIds = new Set(mongoOnly.map((r) => breakId(r.source, r.productCode, r.folio)));
  const covered = new Map<string | null, string>(judged.map((j) => [j.src.source, j.src.asOf]));
  if (ctx.run.allSources) covered.set(null, input.cutoffs.at(-1)!.asOf);
  return resolvedBreaks(
    previous.values(),
    (p) => {
      if (mongoOnlyIds.has(breakId(p.source, p.productCode, p.folio))) return true;
      const j = judged.find((x) => x.src.source === p.source);
      const i = j ? j.table.find(p.productCode, p.folio) : -1;
      return j !== undefined && i >= 0 && j.table.statusAt(i) !== 'matched';
    },
    (source) => covered.get(source),
  );
}
