/**
 * What a break is worth: difference (ten-thousandths of a unit) × NAV (ten-thousandths of a rupee)
 * is an exact integer of 10^-8 rupees (a plain number while it stays below 2^53, else BigInt),
 * rounded half away from zero to the paisa, the same rule unitsToNumber uses. Values stay integer
 * paise from here on: a row's value is a safe integer (a break worth more is an overflow error),
 * totals add in BigInt (a million big breaks pass 2^53 paise; a total must never fail a run), and
 * only text for people is ever rupees.
 */
import { ReconError } from '../errors.js';
import type { ReconRow } from '../reconcile.js';

/** 10^-8 rupees per paisa. */
const PER_PAISA = 1_000_000n;

/**
 * difference × nav in paise, rounded half away from zero. Both inputs are integer ten-thousandths.
 */
export function valuePaise(difference: number, nav: number): number {
  if (!Number.isSafeInteger(difference) || !Number.isSafeInteger(nav)) {
    throw new ReconError(
      'RECON_FIXED_POINT_OVERFLOW',
      `break value: difference ${difference} and NAV ${nav} must be integer ten-thousandths`,
    );
  }
  const fast = difference * nav;
  if (Number.isSafeInteger(fast)) {
    // The product is exact; so are the quotient's truncation and the remainder (both below 2^53).
    const magnitude = Math.abs(fast);
    let paise = Math.trunc(magnitude / 1_000_000);
    let rest = magnitude - paise * 1_000_000;
    if (rest < 0) {
      paise--;
      rest += 1_000_000;
    } else if (rest >= 1_000_000) {
      paise++;
      rest -= 1_000_000;
    }
    if (rest * 2 >= 1_000_000) paise++;
    return fast < 0 && paise !== 0 ? -paise : paise;
  }
  return splitValuePaise(difference, nav) ?? bigValuePaise(difference, nav);
}

/**
 * The product past 2^53 without BigInt (a bad day has millions of such breaks): both magnitudes
 * cut at 10^6, a = ah·10^6 + al and b = bh·10^6 + bl, so that a·b / 10^6 = ah·bh·10^6 + ah·bl +
 * al·bh + al·bl / 10^6, every term an integer that is exact while it stays a safe integer. Null
 * when one does not.
 */
function splitValuePaise(difference: number, nav: number): number | null {
  const a = Math.abs(difference),
    b = Math.abs(nav);
  const ah = Math.floor(a / 1_000_000),
    al = a - ah * 1_000_000;
  const bh = Math.floor(b / 1_000_000),
    bl = b - bh * 1_000_000;
  const low = al * bl;
  const lowPaise = Math.floor(low / 1_000_000);
  const rest = low - lowPaise * 1_000_000;
  const high = ah * bh * 1_000_000,
    middle = ah * bl + al * bh;
  // No term is negative: a product or sum that passed 2^53 on the way is past it at the end.
  const paise = high + middle + lowPaise + (rest * 2 >= 1_000_000 ? 1 : 0);
  if (!Number.isSafeInteger(high) || !Number.isSafeInteger(middle) || !Number.isSafeInteger(paise))
    return null;
  return difference < 0 !== nav < 0 && paise !== 0 ? -paise : paise;
}

/** The product past 2^53: BigInt (apart, so the common path above stays optimised). */
function bigValuePaise(difference: number, nav: number): number {
  const product = BigInt(difference) * BigInt(nav);
  const magnitude = product < 0n ? -product : product;
  let paise = magnitude / PER_PAISA;
  if ((magnitude % PER_PAISA) * 2n >= PER_PAISA) paise += 1n;
  const out = Number(product < 0n ? -paise : paise);
  if (!Number.isSafeInteger(out)) {
    throw new ReconError(
      'RECON_FIXED_POINT_OVERFLOW',
      `break value of difference ${difference} × NAV ${nav} (ten-thousandths) exceeds exact integer range`,
    );
  }
  return out === 0 ? 0 : out;
}

/** Where a break's NAV came from. */
export type NavSource = 'file' | 'ledger';

/**
 * Values a break row: the file's NAV when the file had one for the key, else the ledger's latest
 * for the key (`ledgerNav`), else none. A row whose absolute value is below materiality is
 * immaterial; a row with no NAV never is (an unknown value is not a small one).
 */
export function valueBreak(
  row: ReconRow,
  ledgerNav: number | undefined,
  materialityPaise: number,
): void {
  const fileNav = row.nav ?? null;
  const nav = fileNav ?? ledgerNav ?? null;
  row.nav = nav;
  row.navSource = fileNav !== null ? 'file' : nav !== null ? 'ledger' : null;
  row.valuePaise = nav === null ? null : valuePaise(row.difference, nav);
  row.immaterial = row.valuePaise !== null && Math.abs(row.valuePaise) < materialityPaise;
}

/** A stored total: a number while it is a safe integer, else its exact decimal text. */
export type StoredPaise = number | string;

export function storedPaise(paise: bigint): StoredPaise {
  return paise <= BigInt(Number.MAX_SAFE_INTEGER) && paise >= BigInt(Number.MIN_SAFE_INTEGER)
    ? Number(paise)
    : paise.toString();
}

/** Exact text of paise as rupees, Indian digit grouping: -123456789 → "-12,34,567.89". */
export function formatRupees(paise: number | bigint | string): string {
  const value = BigInt(paise);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const whole = (abs / 100n).toString();
  const fraction = (abs % 100n).toString().padStart(2, '0');
  const last3 = whole.slice(-3);
  const rest = whole.slice(0, -3).replace(/\B(?=(\d{2})+$)/g, ',');
  return `${negative ? '-' : ''}${rest.length > 0 ? `${rest},` : ''}${last3}.${fraction}`;
}

/** Paise as a rupee number for documents (exact to the paisa: the nearest double to p/100). */
export function paiseToRupees(paise: number): number {
  return paise / 100;
}

/** One (source, status, reason) group of breaks and how many of them carry no value. */
export interface ValueGroupCounts {
  source: string | null;
  status: string;
  reason: string | null;
  breaks: number;
  /** Breaks with no NAV anywhere: counted here, in no value. */
  unvalued: number;
  immaterial: number;
}

export interface ValueGroup extends ValueGroupCounts {
  /** Sum of absolute values (what is at stake) and signed sum (ledger minus file), paise. */
  grossPaise: bigint;
  netPaise: bigint;
}

/** Value totals per (source, status, reason): exact integer paise. */
export class ValueTotals {
  private readonly groups = new Map<string, ValueGroup & { gross: number; net: number }>();
  private last: (ValueGroup & { gross: number; net: number }) | null = null;

  add(row: ReconRow): void {
    const reason = row.reason?.code ?? null;
    // Runs once per break (millions on a bad day): rows come in runs of one group, so the last
    // group is tried first, and the key is a plain string, not JSON.
    let g = this.last;
    if (g === null || g.source !== row.source || g.status !== row.status || g.reason !== reason) {
      const id = `${row.source ?? '\u0001'}\u0000${row.status}\u0000${reason ?? ''}`;
      g = this.groups.get(id) ?? null;
      if (g === null) {
        g = {
          source: row.source,
          status: row.status,
          reason,
          breaks: 0,
          unvalued: 0,
          immaterial: 0,
          grossPaise: 0n,
          netPaise: 0n,
          gross: 0,
          net: 0,
        };
        this.groups.set(id, g);
      }
      this.last = g;
    }
    g.breaks++;
    if (row.immaterial) g.immaterial++;
    if (row.valuePaise === null || row.valuePaise === undefined) {
      g.unvalued++;
      return;
    }
    // Numbers while the sums stay exact; folded into BigInt before they would not (no BigInt per
    // row).
    const v = row.valuePaise;
    if (!Number.isSafeInteger(g.gross + Math.abs(v)) || !Number.isSafeInteger(g.net + v))
      this.fold(g);
    g.gross += Math.abs(v);
    g.net += v;
  }

  private fold(g: ValueGroup & { gross: number; net: number }): void {
    g.grossPaise += BigInt(g.gross);
    g.netPaise += BigInt(g.net);
    g.gross = 0;
    g.net = 0;
  }

  list(): ValueGroup[] {
    for (const g of this.groups.values()) this.fold(g);
    return [...this.groups.values()]
      .map(({ gross: _g, net: _n, ...rest }) => rest)
      .sort((a, b) => (b.grossPaise > a.grossPaise ? 1 : b.grossPaise < a.grossPaise ? -1 : 0));
  }
}
