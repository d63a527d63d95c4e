/**
 * The ledger's NAV for a break whose file gives none (mongo_only rows, files without a NAV column):
 * the NAV of the key's latest transaction before the cut-off. Transactions without a usable NAV
 * (missing, not a number, zero or negative) are passed over. Ties on the timestamp go to the
 * larger id, so the choice never depends on the order the server returns documents in.
 */
import { unitsFromValue } from './units-value.js';
import { keyText } from './positions.js';
import { keyOf } from '../keys/text-key.js';

export class LatestNavs {
  private readonly best = new Map<string, { at: number; id: string; nav: number }>();

  /** Only these keys are wanted (key strings, see keys/text-key.ts); null: every key. */
  constructor(
    private readonly wanted: ReadonlySet<string> | null,
    private readonly cutoff: Date,
  ) {}

  add(productCode: unknown, folio: unknown, when: unknown, navValue: unknown, id: string): void {
    if (navValue === undefined || navValue === null) return;
    if (!(when instanceof Date) || !(when.getTime() < this.cutoff.getTime())) return;
    let nav: number | null;
    try {
      nav = unitsFromValue(navValue);
    } catch {
      nav = null; // too large to be a NAV
    }
    if (nav === null || nav <= 0) return;
    const p = keyText(productCode),
      f = keyText(folio);
    if (p === null || f === null) return;
    this.offer(keyOf(p, f), when.getTime(), id, nav);
  }

  /** A usable NAV (ten-thousandths, > 0) of a key's transaction at `at` (epoch ms). */
  offer(key: string, at: number, id: string, nav: number): void {
    if (this.wanted !== null && !this.wanted.has(key)) return;
    const b = this.best.get(key);
    if (b === undefined || at > b.at || (at === b.at && id > b.id))
      this.best.set(key, { at, id, nav });
  }

  /** Key → NAV (ten-thousandths of a rupee), of every key or of the keys in `only`. */
  result(only?: ReadonlySet<string>): Map<string, number> {
    const out = new Map<string, number>();
    if (only === undefined) for (const [k, v] of this.best) out.set(k, v.nav);
    else
      for (const k of only) {
        const b = this.best.get(k);
        if (b !== undefined) out.set(k, b.nav);
      }
    return out;
  }
}
