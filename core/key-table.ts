/**
 * Keys as numbers. A key (product code, folio) is held as (product id, folio code): the product id
 * indexes a run-wide list of product codes, and the folio code is the folio itself when it is a
 * plain whole number (no leading zero, at most 15 digits, so exact in a double), else −(1 + id) of
 * its text in a run-wide list. Text ↔ code is one-to-one, so "00123" and "123" stay two folios, as
 * they are two strings. Measured on a million-key file: string keys in a Map cost more than the
 * decoding itself (a string per key, hashed on every lookup, cloned across threads); these tables
 * are typed arrays, cheap to fill, to look up and to move between threads.
 */

/** The folio code of a plain whole number's text, or -1 when the text is not one. */
export function numericFolioCode(text: string): number {
  const n = text.length;
  if (n === 0 || n > 15 || (n > 1 && text.charCodeAt(0) === 0x30)) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** The text of a folio code; `texts` is the list that negative codes index. */
export function folioText(code: number, texts: readonly string[]): string {
  return code >= 0 ? String(code) : texts[-code - 1];
}

/** A 32-bit hash of a string (FNV-1a over UTF-16 code units). */
export function textHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Hash of a folio code (exact for codes up to 2^53). */
function folioHash(code: number): number {
  return (code >>> 0) ^ Math.imul((code / 4294967296) | 0, 0x9e3779b1);
}

/**
 * Which merge partition a key belongs to. Computed from the key's text (the product's text hash and
 * the folio's code, or its text hash for a text folio), so every range of every file, and the main
 * thread, agree without sharing ids.
 */
export function partitionOf(
  productHash: number,
  folioCodeOrMinus1: number,
  folioTextHash: number,
  partitions: number,
): number {
  const f =
    folioCodeOrMinus1 >= 0
      ? folioHash(folioCodeOrMinus1)
      : Math.imul(folioTextHash, 0x27d4eb2f) ^ 0x5bd1e995;
  return mix(Math.imul(productHash, 0x9e3779b1) ^ f) % partitions;
}

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

  /** The id of a string already met, or -1. */
  find(text: string): number {
    return this.ids.get(text) ?? -1;
  }

  hashOf(id: number): number {
    return this.hashes[id];
  }
}

/**
 * The plain-data form of a KeyTable, as it crosses threads (SharedArrayBuffer-backed or copied).
 */
export interface KeyTableData {
  pid: Int32Array;
  folio: Float64Array;
  /** Open addressing: entry index + 1, 0 when empty; length is a power of two. */
  slots: Int32Array;
  size: number;
}

/**
 * A hash table from (product id, folio code) to an entry index 0..size-1, entries in insertion
 * order. Linear probing over a slot array kept at most half full.
 */
export class KeyTable {
  pid: Int32Array;
  folio: Float64Array;
  slots: Int32Array;
  size: number;
  private mask: number;

  constructor(
    expected = 16,
    private readonly shared = false,
  ) {
    const capacity = Math.max(16, expected);
    this.pid = new Int32Array(this.buffer(capacity * 4));
    this.folio = new Float64Array(this.buffer(capacity * 8));
    this.slots = new Int32Array(this.buffer(slotCount(capacity) * 4));
    this.mask = this.slots.length - 1;
    this.size = 0;
  }

  static from(data: KeyTableData): KeyTable {
    const t = Object.create(KeyTable.prototype) as KeyTable;
    Object.assign(t, {
      pid: data.pid,
      folio: data.folio,
      slots: data.slots,
      size: data.size,
      mask: data.slots.length - 1,
      shared: false,
    });
    return t;
  }

  /** Entry index of a key, or -1. */
  find(pid: number, folio: number): number {
    const slots = this.slots,
      mask = this.mask;
    for (let s = mix(Math.imul(pid, 0x9e3779b1) ^ folioHash(folio)) & mask; ; s = (s + 1) & mask) {
      const e = slots[s];
      if (e === 0) return -1;
      if (this.pid[e - 1] === pid && this.folio[e - 1] === folio) return e - 1;
    }
  }

  /** Entry index of a key, added at the end when new (then the index equals the old size). */
  insert(pid: number, folio: number): number {
    if ((this.size + 1) * 2 > this.slots.length) this.grow();
    const slots = this.slots,
      mask = this.mask;
    for (let s = mix(Math.imul(pid, 0x9e3779b1) ^ folioHash(folio)) & mask; ; s = (s + 1) & mask) {
      const e = slots[s];
      if (e === 0) {
        const at = this.size++;
        if (at === this.pid.length) this.growEntries();
        this.pid[at] = pid;
        this.folio[at] = folio;
        slots[s] = at + 1;
        return at;
      }
      if (this.pid[e - 1] === pid && this.folio[e - 1] === folio) return e - 1;
    }
  }

  /** Exactly-sized copies (or the shared arrays themselves), for sending to another thread. */
  data(): KeyTableData {
    if (this.shared)
      return { pid: this.pid, folio: this.folio, slots: this.slots, size: this.size };
    return {
      pid: this.pid.slice(0, this.size),
      folio: this.folio.slice(0, this.size),
      slots: this.slots,
      size: this.size,
    };
  }

  private buffer(bytes: number): ArrayBuffer | SharedArrayBuffer {
    return this.shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
  }

  private growEntries(): void {
    const cap = this.pid.length * 2;
    const pid = new Int32Array(this.buffer(cap * 4));
    pid.set(this.pid);
    const folio = new Float64Array(this.buffer(cap * 8));
    folio.set(this.folio);
    this.pid = pid;
    this.folio = folio;
  }

  private grow(): void {
    this.slots = new Int32Array(this.buffer(this.slots.length * 2 * 4));
    this.mask = this.slots.length - 1;
    const slots = this.slots,
      mask = this.mask;
    for (let i = 0; i < this.size; i++) {
      let s = mix(Math.imul(this.pid[i], 0x9e3779b1) ^ folioHash(this.folio[i])) & mask;
      while (slots[s] !== 0) s = (s + 1) & mask;
      slots[s] = i + 1;
    }
  }
}

function slotCount(entries: number): number {
  let n = 16;
  while (n < entries * 2) n *= 2;
  return n;
}
