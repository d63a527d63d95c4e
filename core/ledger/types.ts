import { DEFAULTS, type LedgerFields } from '../../config/schema.js';
import type { Positions } from '../reconcile.js';

export type { LedgerFields } from '../../config/schema.js';
export type { LedgerRules } from '../../config/loaded.js';

/**
 * Transactions after the earliest cut-off that an adapter keeps from the snapshots' read for the
 * next-day movements; past this many, movements() reads its own range instead.
 */
export const LATER_LIMIT = 1_000_000;

/** The ledger's field names when the config names none. */
export const DEFAULT_LEDGER_FIELDS: LedgerFields = DEFAULTS.ledger.fields;

/** One day's cut-off: transactions strictly before `cutoff` count. */
export interface Cutoff {
  asOf: string;
  cutoff: Date;
}

/** Transactions that could not be placed, counted by reason, with a few ids to look at. */
export interface LedgerAnomalies {
  missingKey: number;
  nonNumericUnits: number;
  /** Missing or non-date timestamp: cannot be placed on any day. */
  badDate: number;
  samples: string[];
}

export interface LedgerSnapshot extends Cutoff {
  positions: Positions;
  /** Transactions counted into positions. */
  transactions: number;
  anomalies: LedgerAnomalies;
  /** Ignored transaction types with their counts. */
  ignoredTypes: Record<string, number>;
}

export interface LedgerAdapter {
  /**
   * Net positions per key, one snapshot per cut-off, aggregated as close to the data as the backend
   * allows.
   */
  snapshots(cutoffs: readonly Cutoff[]): Promise<LedgerSnapshot[]>;
  /** Signed units and ids of transactions in [from, to), per key (break explanations). */
  movements(from: Date, to: Date): Promise<Map<string, { units: number; ids: string[] }>>;
  /**
   * NAV of each key's latest transaction before `cutoff` (ten-thousandths), for keys that have one.
   */
  latestNavs(
    cutoff: Date,
    keys: readonly { productCode: string; folio: string }[],
  ): Promise<Map<string, number>>;
  /** Scheme names for a few keys (mongo_only rows), by key. */
  schemeNames(
    keys: readonly { productCode: string; folio: string }[],
  ): Promise<Map<string, string>>;
  close(): Promise<void>;
}
