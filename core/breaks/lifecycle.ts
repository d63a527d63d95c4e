/**
 * The life of a break across days. A break is identified by (source, product code, folio). Against
 * the previous committed run of an earlier as-of day it is `new`, `persisting` (same status and
 * difference) or `changed`; breaks of that run that are gone are `resolved`. Comparing with an
 * earlier day, never with a rerun of the same day, is what keeps reruns from ageing anything.
 */
import { unitsToNumber } from '../fixed-point.js';
import type { ReconRow } from '../reconcile.js';

export interface PreviousBreak {
  source: string | null;
  productCode: string;
  folio: string;
  status: string;
  /** As stored: a number rounded to the source's decimals. */
  difference: number;
  firstSeen: string;
  asOf: string;
}

export interface ResolvedBreak extends PreviousBreak {
  resolvedOn: string;
}

export interface LifecycleSummary {
  new: number;
  persisting: number;
  changed: number;
  /** New breaks that had been resolved on an earlier day (counted here, not in `new`). */
  reopened: number;
  /** New and reopened breaks below materiality: never alerted. */
  immaterialNew?: number;
  resolved: ResolvedBreak[];
}

export function breakId(source: string | null, productCode: string, folio: string): string {
  return JSON.stringify([source, productCode, folio]);
}

export function previousById(previous: readonly PreviousBreak[]): Map<string, PreviousBreak> {
  return new Map(previous.map((p) => [breakId(p.source, p.productCode, p.folio), p]));
}

/** Sets firstSeen, ageDays and lifecycle on a break row and counts it. */
export function ageBreak(
  row: ReconRow,
  previous: ReadonlyMap<string, PreviousBreak>,
  summary: LifecycleSummary,
): void {
  // No previous run (a first run, or a first day): no key string per break.
  const p =
    previous.size > 0 ? previous.get(breakId(row.source, row.productCode, row.folio)) : undefined;
  if (!p) {
    row.lifecycle = 'new';
    row.firstSeen = row.asOf;
    summary.new++;
  } else {
    const same =
      p.status === row.status && p.difference === unitsToNumber(row.difference, row.decimals);
    row.lifecycle = same ? 'persisting' : 'changed';
    row.firstSeen = p.firstSeen;
    if (same) summary.persisting++;
    else summary.changed++;
  }
  row.ageDays = daysBetween(row.firstSeen, row.asOf);
}

/** Breaks of the previous run, in a source this run covers, that are no longer breaks. */
export function resolvedBreaks(
  previous: Iterable<PreviousBreak>,
  stillBroken: (p: PreviousBreak) => boolean,
  resolvedOn: (source: string | null) => string | undefined,
): ResolvedBreak[] {
  const out: ResolvedBreak[] = [];
  for (const p of previous) {
    const on = resolvedOn(p.source);
    if (on !== undefined && !stillBroken(p)) out.push({ ...p, resolvedOn: on });
  }
  return out;
}

/**
 * Whole days between two `yyyy-mm-dd` days (calendar days; runs once per break, so no date
 * library).
 */
export function daysBetween(from: string, to: string): number {
  return dayNumber(to) - dayNumber(from);
}

/**
 * Days since 1970-01-01 of a `yyyy-mm-dd` day. A run's breaks share a few days: each is parsed
 * once (parsing it per break took longer than writing the break's line).
 */
const dayNumbers = new Map<string, number>();

function dayNumber(day: string): number {
  let n = dayNumbers.get(day);
  if (n === undefined) {
    n = Math.round(Date.parse(`${day}T00:00:00Z`) / 86_400_000);
    // A bound, so that stored first-seen days cannot grow it without end.
    if (dayNumbers.size >= 100_000) dayNumbers.clear();
    dayNumbers.set(day, n);
  }
  return n;
}
