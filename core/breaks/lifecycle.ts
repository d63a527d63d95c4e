/**
 * The life of a break across days. A break is identified by (source, product code, folio). Against
 * the previous committed run of an earlier as-of day it is `new`, `persisting` (same status and
 * difference) or `changed`; breaks of that run that are gone are `resolved`. Comparing with an
 * earlier day, never with a rerun of the same day, is what keeps reruns from ageing anything.
 */
import { DateTime } from 'luxon';
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
  resolved: ResolvedBreak[];
}

export function breakId(source: string | null, productCode: string, folio: string): string {
  return JSON.stringify([source, productCode, folio]);
}

/** Sets firstSeen, ageDays and lifecycle on every break row; returns the counts and the resolved list. */
export function applyLifecycle(breaks: ReconRow[], previous: readonly PreviousBreak[], coveredSources: ReadonlySet<string | null>): LifecycleSummary {
  const prev = new Map(previous.map((p) => [breakId(p.source, p.productCode, p.folio), p]));
  const seen = new Set<string>();
  const out: LifecycleSummary = { new: 0, persisting: 0, changed: 0, resolved: [] };
  for (const row of breaks) {
    const id = breakId(row.source, row.productCode, row.folio);
    seen.add(id);
    const p = prev.get(id);
    if (!p) {
      row.lifecycle = 'new';
      row.firstSeen = row.asOf;
      out.new++;
    } else {
      const same = p.status === row.status && p.difference === unitsToNumber(row.difference, row.decimals);
      row.lifecycle = same ? 'persisting' : 'changed';
      row.firstSeen = p.firstSeen;
      if (same) out.persisting++; else out.changed++;
    }
    row.ageDays = daysBetween(row.firstSeen, row.asOf);
  }
  const asOfBySource = new Map(breaks.map((r) => [r.source, r.asOf]));
  for (const [id, p] of prev) {
    if (!seen.has(id) && coveredSources.has(p.source)) out.resolved.push({ ...p, resolvedOn: asOfBySource.get(p.source) ?? p.asOf });
  }
  return out;
}

export function daysBetween(from: string, to: string): number {
  return Math.round(DateTime.fromISO(to, { zone: 'UTC' }).diff(DateTime.fromISO(from, { zone: 'UTC' }), 'days').days);
}
