import { textHash } from './hash.js';

/** Returned by `find` for a string never met. */
export const NOT_INTERNED = -1;

/** Strings numbered in the order first met, with their hashes (for partitioning). */
export class Interned {
  readonly texts: string[] = [];
  readonly hashes: number[] = [];
  private readonly ids = new Map<string, number>();

  id(text: string): number {
    let id = this.ids.get(text);
    if (id === undefined) {
      id = this.texts.length;
      this.texts.push(text);
      this.hashes.push(textHash(text));
      this.ids.set(text, id);
    }
    return id;
  }

  /** The id of a string already met, or NOT_INTERNED. */
  find(text: string): number {
    return this.ids.get(text) ?? NOT_INTERNED;
  }

  hashOf(id: number): number {
    return this.hashes[id];
  }
}
