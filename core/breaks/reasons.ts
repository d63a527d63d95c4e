/**
 * The explanation a person would check first, stored as `reason` on a break when it applies:
 * - pledged: the difference equals the units the registrar shows as pledged (KARVY PLDG);
 * - timing: the ledger would equal the file if the ledger's transactions dated the day after the
 *   as-of day were counted (booked a day late); those transactions are cited;
 * - probable_key_mismatch: a dbf_only and a mongo_only row of one source and product with equal
 *   units whose folios differ only by leading zeros, a `/NN` suffix or a trailing `.0`, or whose
 *   CAMS FOLIO_OLD is the ledger's folio; the two rows are paired.
 * A row gets at most one reason: pledged, then timing, then a pairing.
 */
import { keyOf } from '../keys/text-key.js';
import type { BreakReason, ReconRow } from '../reconcile.js';

/**
 * Signed units of ledger transactions dated the day after the as-of day, per key, with their ids.
 */
export type NextDayMovements = ReadonlyMap<string, { units: number; ids: string[] }>;

export function normaliseFolio(folio: string): string {
  return folio
    .trim()
    .replace(/\.0+$/, '')
    .replace(/\/\d{1,3}$/, '')
    .replace(/^0+(?=\d)/, '');
}

/** pledged or timing, judged on the row alone. */
export function rowReason(
  row: ReconRow,
  nextDay: NextDayMovements | undefined,
): BreakReason | undefined {
  if (
    row.status === 'mismatched' &&
    row.pledged &&
    row.pledged !== 0 &&
    Math.abs(row.difference) === Math.abs(row.pledged)
  )
    return { code: 'pledged' };
  const next =
    nextDay !== undefined && nextDay.size > 0
      ? nextDay.get(keyOf(row.productCode, row.folio))
      : undefined;
  if (next && next.units !== 0 && row.difference === -next.units)
    return { code: 'timing', transactionIds: next.ids };
  return undefined;
}

/**
 * The (source, product) groups that have unexplained mongo_only rows: only dbf_only rows there can
 * pair.
 */
export function pairingGroups(mongoOnly: readonly ReconRow[]): Map<string, ReconRow[]> {
  const out = new Map<string, ReconRow[]>();
  for (const r of mongoOnly) {
    if (r.status !== 'mongo_only' || r.reason) continue;
    const k = groupOf(r);
    out.set(k, [...(out.get(k) ?? []), r]);
  }
  return out;
}

export function groupOf(r: ReconRow): string {
  return groupKey(r.source, r.productCode);
}

/** The pairing group of a (source, product code). */
export function groupKey(source: string | null, productCode: string): string {
  return JSON.stringify([source, productCode]);
}

/** Pairs one unexplained dbf_only row with a mongo_only row of its group; sets reason on both. */
export function pairKeyMismatch(d: ReconRow, groups: ReadonlyMap<string, ReconRow[]>): boolean {
  if (d.status !== 'dbf_only' || d.reason) return false;
  const m = (groups.get(groupOf(d)) ?? []).find(
    (c) =>
      !c.reason &&
      c.mongoUnits === d.dbfUnits &&
      (normaliseFolio(c.folio) === normaliseFolio(d.folio) ||
        (d.folioOld !== undefined && d.folioOld !== null && d.folioOld.trim() === c.folio)),
  );
  if (!m) return false;
  d.reason = {
    code: 'probable_key_mismatch',
    pair: { productCode: m.productCode, folio: m.folio },
  };
  m.reason = {
    code: 'probable_key_mismatch',
    pair: { productCode: d.productCode, folio: d.folio },
  };
  return true;
}
