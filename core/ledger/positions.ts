/**
 * Turns ledger groups (one transaction, or a server-side group of them) into signed positions.
 * Shared by every ledger adapter so the rules live once: trim the key, sign by type, count what
 * cannot be used, and refuse unmapped types unless config says to ignore them.
 */
import { ReconError } from '../errors.js';
import { addUnits } from '../fixed-point.js';
import { hasSeparator, keyOf } from '../keys/text-key.js';
import type { LedgerPosition } from '../reconcile.js';
import type { Cutoff, LedgerAnomalies, LedgerRules, LedgerSnapshot } from './types.js';

export interface LedgerGroup {
  productCode: unknown;
  folio: unknown;
  type: unknown;
  /** Ten-thousandths, or null when the value is not a number. */
  units: number | null;
  /** Transactions in the group. */
  count: number;
  /** An id to cite when the group is an anomaly. */
  sample?: string;
}

export class PositionBuilder {
  readonly positions = new Map<string, LedgerPosition>();
  readonly anomalies: LedgerAnomalies = {
    missingKey: 0,
    nonNumericUnits: 0,
    badDate: 0,
    samples: [],
  };
  readonly ignoredTypes: Record<string, number> = {};
  private readonly unmapped = new Map<string, number>();
  private readonly signs = new Map<string, number>();
  private readonly ignore: Set<string>;
  transactions = 0;

  constructor(
    private readonly cutoff: Cutoff,
    private readonly rules: LedgerRules,
  ) {
    for (const [type, sign] of Object.entries(rules.typeSigns))
      this.signs.set(type.trim().toUpperCase(), sign);
    this.ignore = new Set(rules.ignoreTypes.map((t) => t.trim().toUpperCase()));
  }

  /** Cut-off as epoch milliseconds, for adapters that filter transactions themselves. */
  snapshotCutoff(): number {
    return this.cutoff.cutoff.getTime();
  }

  add(g: LedgerGroup): void {
    const productCode = keyText(g.productCode);
    const folio = keyText(g.folio);
    if (productCode === null || folio === null) {
      this.anomalies.missingKey += g.count;
      this.sample(g.sample);
      return;
    }
    const type = typeof g.type === 'string' ? g.type.trim().toUpperCase() : String(g.type);
    const sign = this.signs.get(type);
    if (sign === undefined) {
      if (this.ignore.has(type) || this.rules.ignoreUnmappedTypes) {
        this.ignoredTypes[type] = (this.ignoredTypes[type] ?? 0) + g.count;
      } else {
        this.unmapped.set(type, (this.unmapped.get(type) ?? 0) + g.count);
      }
      return;
    }
    if (g.units === null) {
      this.anomalies.nonNumericUnits += g.count;
      this.sample(g.sample);
      return;
    }
    const key = keyOf(productCode, folio);
    const signed = sign * g.units;
    const pos = this.positions.get(key);
    if (pos === undefined)
      this.positions.set(key, { productCode, folio, units: signed, transactions: g.count });
    else {
      pos.units = addUnits(pos.units, signed);
      pos.transactions += g.count;
    }
    this.transactions += g.count;
  }

  badDates(count: number, sample?: string): void {
    this.anomalies.badDate += count;
    this.sample(sample);
  }

  finish(): LedgerSnapshot {
    if (this.unmapped.size > 0) throw unmappedTypes(this.cutoff.asOf, this.unmapped);
    return {
      ...this.cutoff,
      positions: this.positions,
      transactions: this.transactions,
      anomalies: this.anomalies,
      ignoredTypes: this.ignoredTypes,
    };
  }

  private sample(id: string | undefined): void {
    if (id !== undefined && this.anomalies.samples.length < 10) this.anomalies.samples.push(id);
  }
}

/** The error for transaction types that config neither signs nor ignores, commonest first. */
export function unmappedTypes(asOf: string, unmapped: ReadonlyMap<string, number>): ReconError {
  const list = [...unmapped]
    .sort((a, b) => b[1] - a[1])
    .map(([t, n]) => `${t} (${n})`)
    .join(', ');
  return new ReconError(
    'RECON_LEDGER_UNMAPPED_TYPE',
    `ledger has transaction types with no sign mapping as of ${asOf}: ${list}; map them in ledger.typeSigns or list them in ledger.ignoreTypes`,
    { types: Object.fromEntries(unmapped) },
  );
}

/**
 * Transactions of a window summed per key, with their ids (unmapped types and bad values skipped).
 */
export class MovementBuilder {
  readonly movements = new Map<string, { units: number; ids: string[] }>();
  private readonly signs = new Map<string, number>();

  constructor(rules: LedgerRules) {
    for (const [type, sign] of Object.entries(rules.typeSigns))
      this.signs.set(type.trim().toUpperCase(), sign);
  }

  add(productCode: unknown, folio: unknown, type: unknown, units: number | null, id: string): void {
    const p = keyText(productCode);
    const f = keyText(folio);
    const sign = this.signs.get(typeof type === 'string' ? type.trim().toUpperCase() : '');
    if (p === null || f === null || sign === undefined || units === null) return;
    const key = keyOf(p, f);
    const m = this.movements.get(key) ?? { units: 0, ids: [] };
    m.units = addUnits(m.units, sign * units);
    m.ids.push(id);
    this.movements.set(key, m);
  }
}

/** Key text: trimmed strings, and whole numbers as their digits (a folio stored as a number). */
export function keyText(value: unknown): string | null {
  if (typeof value === 'string') {
    const t = value.trim();
    return t.length === 0 || hasSeparator(t) ? null : t;
  }
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  if (typeof value === 'bigint' && value >= 0n) return value.toString();
  return null;
}
