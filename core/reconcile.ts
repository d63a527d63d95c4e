/**
 * Pure reconciliation. Holdings (from files) and ledger positions meet on the key (product code,
 * folio); all units are exact ten-thousandths. Each key ends in exactly one status; a ledger
 * position
 * that nets to zero and that no file lists is a closed holding, counted but not stored.
 */

export type ReconStatus = 'matched' | 'mismatched' | 'dbf_only' | 'mongo_only';
export const STATUSES: readonly ReconStatus[] = ['matched', 'mismatched', 'dbf_only', 'mongo_only'];

export interface Holding {
  key: string;
  productCode: string;
  folio: string;
  schemeName: string | null;
  /** Ten-thousandths. */
  units: number;
  /** How many file rows were summed into this key. */
  rows: number;
  /** Pledged units (KARVY PLDG), ten-thousandths; 0 when the file has none. */
  pledged?: number;
  /** The folio before a change (CAMS FOLIO_OLD), when the file gives one. */
  folioOld?: string | null;
  /** NAV from the file (ten-thousandths of a rupee); null when the file has none for the key. */
  nav?: number | null;
}

export interface LedgerPosition {
  productCode: string;
  folio: string;
  /** Ten-thousandths, signed by transaction type. */
  units: number;
  transactions: number;
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

export interface SourceHoldings {
  source: string;
  asOf: string;
  decimals: number;
  holdings: Iterable<Holding>;
}

export type StatusCounts = Record<ReconStatus, number>;

export function emptyCounts(): StatusCounts {
  return { matched: 0, mismatched: 0, dbf_only: 0, mongo_only: 0 };
}

/** Statuses of file keys as small numbers, for columnar results. */
export const FILE_STATUSES: readonly ReconStatus[] = ['matched', 'mismatched', 'dbf_only'];

/**
 * The status of a file key (index into FILE_STATUSES): the one rule, for rows and columns alike.
 */
export function statusCode(
  ledgerUnits: number | null,
  fileUnits: number,
  tolerance: number,
): number {
  if (ledgerUnits === null) return 2;
  return Math.abs(ledgerUnits - fileUnits) <= tolerance ? 0 : 1;
}

/** One key of a source's files against the ledger as of that source's day. */
export function judgeHolding(
  src: Omit<SourceHoldings, 'holdings'>,
  h: Holding,
  positions: ReadonlyMap<string, LedgerPosition>,
  tolerance: number,
): ReconRow {
  const pos = positions.get(h.key);
  return holdingRow(src, h, pos ? pos.units : null, tolerance);
}

/** The row of a holding whose ledger balance is known (null: no ledger position). */
export function holdingRow(
  src: Omit<SourceHoldings, 'holdings'>,
  h: Holding,
  mongoUnits: number | null,
  tolerance: number,
): ReconRow {
  const difference = (mongoUnits ?? 0) - h.units;
  const status = FILE_STATUSES[statusCode(mongoUnits, h.units, tolerance)];
  return {
    source: src.source,
    status,
    asOf: src.asOf,
    productCode: h.productCode,
    folio: h.folio,
    schemeName: h.schemeName,
    dbfUnits: h.units,
    mongoUnits,
    difference,
    dbfRows: h.rows,
    decimals: src.decimals,
    pledged: h.pledged,
    folioOld: h.folioOld,
    nav: h.nav ?? null,
  };
}

/** Every key of one source's files against the ledger; rows are made lazily. */
export function* reconcileSource(
  src: SourceHoldings,
  positions: ReadonlyMap<string, LedgerPosition>,
  tolerance: number,
): Generator<ReconRow> {
  for (const h of src.holdings) yield judgeHolding(src, h, positions, tolerance);
}

export interface MongoOnlyScope {
  /** Ledger positions per as-of day. */
  positionsByDay: ReadonlyMap<string, ReadonlyMap<string, LedgerPosition>>;
  /** Sources reconciled in this run, with their as-of day and decimals. */
  sources: readonly { source: string; asOf: string; decimals: number }[];
  /** Whether any file of this run lists the key. */
  listed: (key: string) => boolean;
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
    positions: ReadonlyMap<string, LedgerPosition> | undefined,
    asOf: string,
    owner: string | null,
    decimals: number,
  ) => {
    if (!positions) return;
    for (const [key, pos] of positions) {
      if (scope.listed(key) || scope.ownerOf(pos.productCode) !== owner) continue;
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
