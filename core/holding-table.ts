/**
 * One source's holdings, key → units, stored column-wise. A Map of objects costs about 250 bytes a
 * key; this costs about 90 (the key string, a Map slot and three numbers), which is what keeps two
 * files of five million rows inside a small machine's memory. Scheme names are interned: a file has
 * a few thousand schemes, not a name per row.
 */
import { addUnits } from './fixed-point.js';
import { splitKey } from './key.js';
import type { Holding } from './reconcile.js';

/** A range's aggregate as it crosses the thread boundary: parallel arrays, plain data. */
export interface KeyAggregate {
  keys: string[];
  /** Ten-thousandths. */
  units: Float64Array;
  rows: Uint32Array;
  /** Index into schemeNames, or -1. */
  schemeIds: Int32Array;
  schemeNames: string[];
  /** Optional evidence columns, parallel to keys. */
  pledged?: Float64Array;
  folioOld?: string[];
}

export class HoldingTable {
  private readonly index = new Map<string, number>();
  private readonly keys: string[] = [];
  private readonly units: number[] = [];
  private readonly rows: number[] = [];
  private readonly schemeOf: number[] = [];
  private readonly schemeNames: string[] = [];
  private readonly schemeIds = new Map<string, number>();
  private pledged: number[] | null = null;
  private folioOld: string[] | null = null;

  get size(): number {
    return this.keys.length;
  }

  has(key: string): boolean {
    return this.index.has(key);
  }

  /** Adds a range's aggregate; a key may straddle ranges and files. */
  merge(part: KeyAggregate): void {
    const localToGlobal = part.schemeNames.map((name) => this.intern(name));
    if (part.pledged && !this.pledged) this.pledged = new Array<number>(this.keys.length).fill(0);
    if (part.folioOld && !this.folioOld) this.folioOld = new Array<string>(this.keys.length).fill('');
    for (let i = 0; i < part.keys.length; i++) {
      const key = part.keys[i];
      const scheme = part.schemeIds[i] < 0 ? -1 : localToGlobal[part.schemeIds[i]];
      const at = this.index.get(key);
      if (at === undefined) {
        this.index.set(key, this.keys.length);
        this.keys.push(key);
        this.units.push(part.units[i]);
        this.rows.push(part.rows[i]);
        this.schemeOf.push(scheme);
        this.pledged?.push(part.pledged?.[i] ?? 0);
        this.folioOld?.push(part.folioOld?.[i] ?? '');
      } else {
        if (this.pledged && part.pledged) this.pledged[at] = addUnits(this.pledged[at], part.pledged[i]);
        if (this.folioOld && part.folioOld && this.folioOld[at] === '') this.folioOld[at] = part.folioOld[i];
        this.units[at] = addUnits(this.units[at], part.units[i]);
        this.rows[at] += part.rows[i];
        if (this.schemeOf[at] < 0) this.schemeOf[at] = scheme;
      }
    }
  }

  /** Product codes listed (to tell which registrar services an AMC). */
  productCodes(): Set<string> {
    const out = new Set<string>();
    for (const key of this.keys) out.add(splitKey(key)[0]);
    return out;
  }

  get(key: string): Holding | undefined {
    const at = this.index.get(key);
    return at === undefined ? undefined : this.at(at);
  }

  /** Position of a key, or -1. */
  indexOf(key: string): number {
    return this.index.get(key) ?? -1;
  }

  /** The holding at a position (0 ≤ i < size), made on demand. */
  holdingAt(i: number): Holding {
    return this.at(i);
  }

  /** Holdings in first-seen order; each object is made on demand. */
  *[Symbol.iterator](): IterableIterator<Holding> {
    for (let i = 0; i < this.keys.length; i++) yield this.at(i);
  }

  private at(i: number): Holding {
    const [productCode, folio] = splitKey(this.keys[i]);
    return {
      key: this.keys[i], productCode, folio, schemeName: this.schemeOf[i] < 0 ? null : this.schemeNames[this.schemeOf[i]], units: this.units[i], rows: this.rows[i],
      pledged: this.pledged?.[i] ?? 0, folioOld: this.folioOld?.[i] || null,
    };
  }

  private intern(name: string): number {
    let id = this.schemeIds.get(name);
    if (id === undefined) {
      id = this.schemeNames.length;
      this.schemeNames.push(name);
      this.schemeIds.set(name, id);
    }
    return id;
  }
}
