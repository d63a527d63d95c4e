/**
 * A run's numbering of key parts (see key-table.ts): product codes and text folios get ids in the
 * order they are first met, from files and ledger alike, so a file's keys and the ledger's meet as
 * numbers. Lives on the main thread; workers number their own ranges and the main thread maps them.
 */
import { Interned, folioText, numericFolioCode } from './key-table.js';

export class KeySpace {
  private readonly productIds = new Interned();
  private readonly folioIds = new Interned();

  get products(): readonly string[] {
    return this.productIds.texts;
  }

  get productHashes(): readonly number[] {
    return this.productIds.hashes;
  }

  get folioTexts(): readonly string[] {
    return this.folioIds.texts;
  }

  product(code: string): number {
    return this.productIds.id(code);
  }

  /** The id of a product code already met, or -1. */
  findProduct(code: string): number {
    return this.productIds.find(code);
  }

  folio(text: string): number {
    const n = numericFolioCode(text);
    return n >= 0 ? n : -1 - this.folioIds.id(text);
  }

  /** The code of a folio; for a text folio never met, NaN (which matches no key). */
  findFolio(text: string): number {
    const n = numericFolioCode(text);
    if (n >= 0) return n;
    const id = this.folioIds.find(text);
    return id < 0 ? Number.NaN : -1 - id;
  }

  folioText(code: number): string {
    return folioText(code, this.folioTexts);
  }
}
