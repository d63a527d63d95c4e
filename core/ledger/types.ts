import type { LedgerPosition } from '../reconcile.js';

/** Where the ledger keeps each value (field names; the defaults are the seed ledger's names). */
export interface LedgerFields {
  folio: string;
  productCode: string;
  units: string;
  type: string;
  date: string;
  schemeName: string;
  /** The transaction's NAV: values a break the registrar file gives no NAV for. */
  nav: string;
}

export const DEFAULT_LEDGER_FIELDS: LedgerFields = {
  folio: 'folio_no',
  productCode: 'product_code',
  units: 'units',
  type: 'transaction_type',
  date: 'transaction_date',
  schemeName: 'scheme_name',
  nav: 'nav',
};

export interface LedgerRules {
  fields: LedgerFields;
  /** Transaction type → sign (+1 adds units, -1 removes them); matched case-insensitively. */
  typeSigns: Record<string, number>;
  /** Types that are not holdings movements and are skipped (counted). */
  ignoreTypes: string[];
  /** Skip every type with no sign (counted) instead of failing the run. */
  ignoreUnmappedTypes: boolean;
}

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
  positions: Map<string, LedgerPosition>;
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
