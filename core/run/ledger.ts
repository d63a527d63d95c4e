/**
 * The ledger stage, run while the pool decodes: one snapshot of net positions per as-of day (the
 * day ends at midnight in the run's time zone), each indexed as numbers and cut into the merge
 * partitions that the pool judges file keys against.
 */
import { endOfDayUtc } from '../day-boundary.js';
import type { KeySpace } from '../keys/key-space.js';
import type { Cutoff, LedgerAdapter, LedgerSnapshot } from '../ledger/types.js';
import type { Logger } from '../logger.js';
import { indexPositions, type PositionIndex } from '../position-index.js';
import type { LedgerSummary } from '../store/types.js';
import type { SourcePlan } from './plan.js';

export interface LedgerDays {
  snapshots: LedgerSnapshot[];
  /** Each day's positions as numbers, by as-of day. */
  indexes: Map<string, PositionIndex>;
}

/** The ledger cut-off of every as-of day in the plan, earliest first. */
export function ledgerCutoffs(plans: readonly SourcePlan[], timezone: string): Cutoff[] {
  return [...new Set(plans.map((p) => p.asOf))]
    .sort()
    .map((asOf) => ({ asOf, cutoff: endOfDayUtc(asOf, timezone) }));
}

export async function readLedger(
  ledger: LedgerAdapter,
  cutoffs: readonly Cutoff[],
  space: KeySpace,
  partitions: number,
): Promise<LedgerDays> {
  const snapshots = await ledger.snapshots(cutoffs);
  return {
    snapshots,
    indexes: new Map(
      snapshots.map((snap) => [snap.asOf, indexPositions(snap.positions, space, partitions)]),
    ),
  };
}

/** The run document's ledger entries; transactions the ledger could not count are logged. */
export function ledgerSummaries(
  log: Logger,
  snapshots: readonly LedgerSnapshot[],
): LedgerSummary[] {
  for (const s of snapshots) warnAnomalies(log, s);
  return snapshots.map((s) => ({
    asOf: s.asOf,
    cutoff: s.cutoff.toISOString(),
    transactions: s.transactions,
    positions: s.positions.size,
    missingKey: s.anomalies.missingKey,
    nonNumericUnits: s.anomalies.nonNumericUnits,
    badDate: s.anomalies.badDate,
    samples: s.anomalies.samples,
    ignoredTypes: s.ignoredTypes,
  }));
}

function warnAnomalies(log: Logger, s: LedgerSnapshot): void {
  const a = s.anomalies;
  if (a.missingKey + a.nonNumericUnits + a.badDate > 0) {
    log.warn(
      {
        asOf: s.asOf,
        missingKey: a.missingKey,
        nonNumericUnits: a.nonNumericUnits,
        badDate: a.badDate,
        samples: a.samples,
      },
      'ledger transactions not counted',
    );
  }
}
