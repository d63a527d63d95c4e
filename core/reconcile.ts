/**
 * Pure reconciliation. Holdings (from files) and ledger positions meet on the key (product code,
 * folio); all units are exact ten-thousandths. Each key ends in exactly one status; a ledger
 * position that nets to zero and that no file lists is a closed holding, counted but not stored.
 */

export type ReconStatus = 'matched' | 'mismatched' | 'dbf_only' | 'mongo_only';
export const STATUSES: readonly ReconStatus[] = ['matched', 'mismatched', 'dbf_only', 'mongo_only'];

export interface LedgerPosition {
  productCode: string;
  folio: string;
  /** Ten-thousandths, signed by transaction type. */
  units: number;
  transactions: number;
}

/** A snapshot's positions, each key once (a Map of them, or a list). */
export interface Positions {
  readonly size: number;
  values(): Iterable<LedgerPosition>;
}

export interface ReconRow {
  /** Registrar source; for mongo_only the owner of the product code when known, else null. */
  source: string | null;
  status: ReconStatus;
  asOf: string;
  productCode: string;
  folio: string;
  schemeName: string | null;
  dbfUnits: number | null;
  mongoUnits: number | null;
  /** Ledger minus file, ten-thousandths (a missing side counts as zero). */
  difference: number;
  dbfRows: number;
  /** Decimals the source's units carry; documents round to these. */
  decimals: number;
  pledged?: number;
  folioOld?: string | null;
  /** Break ageing and explanation, filled in before the row is stored (non-matched rows only). */
  firstSeen?: string;
  ageDays?: number;
  lifecycle?: 'new' | 'persisting' | 'changed' | 'reopened';
  /** A reopened break: the as-of day it had last been resolved on. */
  reopenedAfter?: string;
  reason?: BreakReason;
  /**
   * NAV the break was valued at (ten-thousandths of a rupee) and where it came from; null when
   * none.
   */
  nav?: number | null;
  navSource?: 'file' | 'ledger' | null;
  /** difference × NAV in paise (signed like difference); null when there is no NAV. */
  valuePaise?: number | null;
  /** Absolute value below `reconcile.materiality`: kept and counted apart, never alerted. */
  immaterial?: boolean;
}

export interface BreakReason {
  code: 'timing' | 'probable_key_mismatch' | 'pledged';
  /** Transaction ids (timing) or the paired key (probable_key_mismatch). */
  transactionIds?: string[];
  pair?: { productCode: string; folio: string };
}

/** A source as its rows carry it: name, as-of day, and the decimals its units have. */
export interface SourceDay {
  source: string;
  asOf: string;
  decimals: number;
}

export type StatusCounts = Record<ReconStatus, number>;

export function emptyCounts(): StatusCounts {
  return { matched: 0, mismatched: 0, dbf_only: 0, mongo_only: 0 };
}

/** Statuses of file keys as small numbers, for columnar results. */
export const FILE_STATUSES: readonly ReconStatus[] = ['matched', 'mismatched', 'dbf_only'];

/** The status of a file key (index into FILE_STATUSES): the one rule, judged in the merge. */
export function statusCode(
  ledgerUnits: number | null,
  fileUnits: number,
  tolerance: number,
): number {
  if (ledgerUnits === null) return 2;
  return Math.abs(ledgerUnits - fileUnits) <= tolerance ? 0 : 1;
}

export interface MongoOnlyScope {
  /** Ledger positions per as-of day. */
  positionsByDay: ReadonlyMap<string, Positions>;
  /** Sources reconciled in this run, with their as-of day and decimals. */
  sources: readonly SourceDay[];
  /** Whether any file of this run lists the key. */
  listed: (productCode: string, folio: string) => boolean;
  /** The registrar that services a product code, or null when unknown. */
  ownerOf: (productCode: string) => string | null;
  /** Whether positions of unknown owner are in scope (only when every configured source ran). */
  includeUnowned: boolean;
  tolerance: number;
}

/**
 * Ledger positions no file lists. Each is judged as of its owner's day; positions whose owner is
 * unknown, as of the latest day in the run. Returns the rows and the count of closed positions.
 */
export function findMongoOnly(scope: MongoOnlyScope): { rows: ReconRow[]; closed: number } {
  const rows: ReconRow[] = [];
  let closed = 0;
  const judge = (
    positions: Positions | undefined,
    asOf: string,
    owner: string | null,
    decimals: number,
  ) => {
    if (!positions) return;
    for (const pos of positions.values()) {
      // The owner first: it is a lookup by product code, `listed` one by key in every file.
      if (scope.ownerOf(pos.productCode) !== owner || scope.listed(pos.productCode, pos.folio))
        continue;
      if (Math.abs(pos.units) <= scope.tolerance) {
        closed++;
        continue;
      }
      rows.push({
        source: owner,
        status: 'mongo_only',
        asOf,
        productCode: pos.productCode,
        folio: pos.folio,
        schemeName: null,
        dbfUnits: null,
        mongoUnits: pos.units,
        difference: pos.units,
        dbfRows: 0,
        decimals,
      });
    }
  };
  for (const s of scope.sources)
    judge(scope.positionsByDay.get(s.asOf), s.asOf, s.source, s.decimals);
  if (scope.includeUnowned && scope.sources.length > 0) {
    const latest = scope.sources
      .map((s) => s.asOf)
      .sort()
      .at(-1)!;
    judge(scope.positionsByDay.get(latest), latest, null, 4);
  }
  return { rows, closed };
}
