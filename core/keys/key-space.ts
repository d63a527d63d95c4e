/**
 * A run's numbering of key parts: product codes and text folios get ids in the order they are first
 * met, from files and ledger alike, so a file's keys and the ledger's meet as numbers. Lives on the
 * main thread; workers number their own ranges and the main thread maps them.
 */
import { UNKNOWN_FOLIO, folioText, numericFolioCode, textFolioCode } from './folio-code.js';
import { partitionOf, textHash } from './hash.js';
import { Interned, NOT_INTERNED } from './interned.js';

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

  /** The id of a product code already met, or NOT_INTERNED. */
  findProduct(code: string): number {
    return this.productIds.find(code);
  }

  folio(text: string): number {
    const n = numericFolioCode(text);
    return n >= 0 ? n : textFolioCode(this.folioIds.id(text));
  }

  /** The code of a folio; for a text folio never met, UNKNOWN_FOLIO (which matches no key). */
  findFolio(text: string): number {
    const n = numericFolioCode(text);
    if (n >= 0) return n;
    const id = this.folioIds.find(text);
    return id === NOT_INTERNED ? UNKNOWN_FOLIO : textFolioCode(id);
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
