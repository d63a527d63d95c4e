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

/** Marks beside a type's sign (config allows only 1 and -1 as signs). */
export const IGNORED_TYPE = 2;
export const UNMAPPED_TYPE = 3;

/**
 * The transaction-type rules: a type is counted under its trimmed upper-case name (a non-text
 * value under its String) and is signed by config, ignored, or unmapped.
 */
export class TransactionTypes {
  private readonly signs = new Map<string, number>();
  private readonly ignore: Set<string>;
  private readonly seen = new Map<unknown, { name: string; sign: number }>();

  constructor(
    private readonly rules: {
      typeSigns: Readonly<Record<string, number>>;
      ignoreTypes: readonly string[];
      ignoreUnmappedTypes: boolean;
    },
  ) {
    for (const [type, sign] of Object.entries(rules.typeSigns))
      this.signs.set(type.trim().toUpperCase(), sign);
    this.ignore = new Set(rules.ignoreTypes.map((t) => t.trim().toUpperCase()));
  }

  /** The type's name and its sign, IGNORED_TYPE or UNMAPPED_TYPE (once per distinct value). */
  classify(type: unknown): { readonly name: string; readonly sign: number } {
    let c = this.seen.get(type);
    if (c === undefined) {
      const name = typeof type === 'string' ? type.trim().toUpperCase() : String(type);
      const sign = this.signs.get(name);
      const ignored = this.ignore.has(name) || this.rules.ignoreUnmappedTypes;
      c = { name, sign: sign ?? (ignored ? IGNORED_TYPE : UNMAPPED_TYPE) };
      // A primitive is its own key; an object (rare: an EJSON value) is not kept.
      if (type === null || typeof type !== 'object') this.seen.set(type, c);
    }
    return c;
  }
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
  private readonly types: TransactionTypes;
  transactions = 0;

  constructor(
    private readonly cutoff: Cutoff,
    rules: LedgerRules,
  ) {
    this.types = new TransactionTypes(rules);
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
    const { name: type, sign } = this.types.classify(g.type);
    if (sign === IGNORED_TYPE) {
      this.ignoredTypes[type] = (this.ignoredTypes[type] ?? 0) + g.count;
      return;
    }
    if (sign === UNMAPPED_TYPE) {
      this.unmapped.set(type, (this.unmapped.get(type) ?? 0) + g.count);
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
  private readonly types: TransactionTypes;

  constructor(rules: LedgerRules) {
    this.types = new TransactionTypes(rules);
  }

  add(productCode: unknown, folio: unknown, type: unknown, units: number | null, id: string): void {
    const p = keyText(productCode);
    const f = keyText(folio);
    // Only text types move units here; ignored and unmapped ones do not.
    const sign = typeof type === 'string' ? this.types.classify(type).sign : UNMAPPED_TYPE;
    if (p === null || f === null || (sign !== 1 && sign !== -1) || units === null) return;
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
