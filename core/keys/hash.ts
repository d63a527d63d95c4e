/**
 * The hashes of the key layer: FNV-1a for text and field bytes (product codes, text folios), a
 * finaliser for numbers, and the merge partition of a key.
 */

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** One FNV-1a step: folds one UTF-16 code unit or one byte into the hash. */
function fnvStep(h: number, c: number): number {
  return Math.imul(h ^ c, FNV_PRIME);
}

/** A 32-bit hash of a string (FNV-1a over UTF-16 code units). */
export function textHash(text: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) h = fnvStep(h, text.charCodeAt(i));
  return h >>> 0;
}

/** FNV-1a over a field's bytes, high bits folded in (for tables masked to their low bits). */
export function bytesHash(bytes: Uint8Array, at: number, size: number): number {
  let h = FNV_OFFSET;
  for (let i = at; i < at + size; i++) h = fnvStep(h, bytes[i]);
  return h ^ (h >>> 15);
}

/** A 32-bit finaliser (murmur3's). */
export function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Hash of a folio code (exact for codes up to 2^53). */
export function folioHash(code: number): number {
  return (code >>> 0) ^ Math.imul((code / 4294967296) | 0, 0x9e3779b1);
}

/** The slot hash of a key held as numbers (product id, folio code). */
export function keyHash(pid: number, folioCode: number): number {
  return mix(Math.imul(pid, 0x9e3779b1) ^ folioHash(folioCode));
}

/**
 * Which merge partition a key belongs to. Computed from the key's text (the product's text hash and
 * the folio's code, or its text hash for a text folio), so every range of every file, and the main
 * thread, agree without sharing ids.
 */
export function partitionOf(
  productHash: number,
  folioCode: number,
  folioTextHash: number,
  partitions: number,
): number {
  const f =
    folioCode >= 0 ? folioHash(folioCode) : Math.imul(folioTextHash, 0x27d4eb2f) ^ 0x5bd1e995;
  return mix(Math.imul(productHash, 0x9e3779b1) ^ f) % partitions;
}
