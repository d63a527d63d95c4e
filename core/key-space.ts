/**
 * A run's numbering of key parts (see key-table.ts): product codes and text folios get ids in the
 * order they are first met, from files and ledger alike, so a file's keys and the ledger's meet as
 * numbers. Lives on the main thread; workers number their own ranges and the main thread maps them.
 */
import { keyOf, splitKey } from './key.js';
import { folioText, numericFolioCode, textHash } from './key-table.js';

export class KeySpace {
  readonly products: string[] = [];
  readonly productHashes: number[] = [];
  readonly folioTexts: string[] = [];
  private readonly productIds = new Map<string, number>();
  private readonly folioIds = new Map<string, number>();

  product(code: string): number {
    let id = this.productIds.get(code);
    if (id === undefined) {
      id = this.products.length;
      this.products.push(code);
      this.productHashes.push(textHash(code));
      this.productIds.set(code, id);
    }
    return id;
  }

  /** The id of a product code already met, or -1. */
  findProduct(code: string): number {
    return this.productIds.get(code) ?? -1;
  }

  folio(text: string): number {
    const n = numericFolioCode(text);
    if (n >= 0) return n;
    let id = this.folioIds.get(text);
    if (id === undefined) {
      id = this.folioTexts.length;
      this.folioTexts.push(text);
      this.folioIds.set(text, id);
    }
    return -1 - id;
  }

  /** The code of a folio; for a text folio never met, NaN (which matches no key). */
  findFolio(text: string): number {
    const n = numericFolioCode(text);
    if (n >= 0) return n;
    const id = this.folioIds.get(text);
    return id === undefined ? Number.NaN : -1 - id;
  }

  folioText(code: number): string {
    return folioText(code, this.folioTexts);
  }

  key(pid: number, folio: number): string {
    return keyOf(this.products[pid], this.folioText(folio));
  }

  /** A string key's parts as numbers, or null when either part was never met. */
  findKey(key: string): { pid: number; folio: number } | null {
    const [productCode, folio] = splitKey(key);
    const pid = this.findProduct(productCode);
    const code = this.findFolio(folio);
    return pid < 0 || Number.isNaN(code) ? null : { pid, folio: code };
  }
}
