/**
 * The explanation a person would check first, stored as `reason` on a break when it applies:
 * - pledged: the difference equals the units the registrar shows as pledged (KARVY PLDG);
 * - timing: the ledger would equal the file if the ledger's transactions dated the day after the
 *   as-of day were counted (booked a day late or early); those transactions are cited;
 * - probable_key_mismatch: a dbf_only and a mongo_only row of one source and product with equal
 *   units whose folios differ only by leading zeros, a `/NN` suffix or a trailing `.0`, or whose
 *   CAMS FOLIO_OLD is the ledger's folio; the two rows are paired.
 * A row gets at most one reason, in that order.
 */
import { keyOf } from '../key.js';
import type { ReconRow } from '../reconcile.js';

/** Signed units of ledger transactions dated the day after the as-of day, per key, with their ids. */
export type NextDayMovements = ReadonlyMap<string, { units: number; ids: string[] }>;

export function normaliseFolio(folio: string): string {
  return folio.trim().replace(/\.0+$/, '').replace(/\/\d{1,3}$/, '').replace(/^0+(?=\d)/, '');
}

export function detectReasons(breaks: ReconRow[], nextDayByAsOf: ReadonlyMap<string, NextDayMovements>): void {
  for (const row of breaks) {
    if (row.status === 'mismatched' && row.pledged && row.pledged !== 0 && Math.abs(row.difference) === Math.abs(row.pledged)) {
      row.reason = { code: 'pledged' };
      continue;
    }
    const next = nextDayByAsOf.get(row.asOf)?.get(keyOf(row.productCode, row.folio));
    if (next && next.units !== 0 && row.difference === -next.units) {
      row.reason = { code: 'timing', transactionIds: next.ids };
    }
  }
  // Pair dbf_only with mongo_only of the same source and product code.
  const mongoOnly = new Map<string, ReconRow[]>();
  for (const r of breaks) {
    if (r.status !== 'mongo_only' || r.reason) continue;
    const k = JSON.stringify([r.source, r.productCode]);
    mongoOnly.set(k, [...(mongoOnly.get(k) ?? []), r]);
  }
  for (const d of breaks) {
    if (d.status !== 'dbf_only' || d.reason) continue;
    const candidates = mongoOnly.get(JSON.stringify([d.source, d.productCode])) ?? [];
    const m = candidates.find((c) => !c.reason && c.mongoUnits === d.dbfUnits
      && (normaliseFolio(c.folio) === normaliseFolio(d.folio) || (d.folioOld !== undefined && d.folioOld !== null && d.folioOld.trim() === c.folio)));
    if (m) {
      d.reason = { code: 'probable_key_mismatch', pair: { productCode: m.productCode, folio: m.folio } };
      m.reason = { code: 'probable_key_mismatch', pair: { productCode: d.productCode, folio: d.folio } };
    }
  }
}
