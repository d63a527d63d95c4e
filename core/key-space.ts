/**
 * A run's numbering of key parts (see key-table.ts): product codes and text folios get ids in the
 * order they are first met, from files and ledger alike, so a file's keys and the ledger's meet as
 * numbers. Lives on the main thread; workers number their own ranges and the main thread maps them.
 */
import { Interned, folioText, numericFolioCode, partitionOf, textHash } from './key-table.js';

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

  /** The merge partition of a key (its product id and folio code, and the folio's text). */
  partition(pid: number, code: number, folio: string, partitions: number): number {
    return partitions === 1
      ? 0
      : partitionOf(this.productHashes[pid], code, code < 0 ? textHash(folio) : 0, partitions);
  }

  folioText(code: number): string {
    return folioText(code, this.folioTexts);
  }
}
