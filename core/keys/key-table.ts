/**
 * A hash table from a key held as numbers (product id, folio code: see folio-code.ts) to an entry
 * index. String keys in a Map cost more than the decoding itself (a string per key, hashed on every
 * lookup, cloned across threads); these tables are typed arrays, cheap to fill, to look up and to
 * move between threads.
 */
import { keyHash } from './hash.js';
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
    for (let s = keyHash(pid, folio) & mask; ; s = (s + 1) & mask) {
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
    for (let s = keyHash(pid, folio) & mask; ; s = (s + 1) & mask) {
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
      let s = keyHash(this.pid[i], this.folio[i]) & mask;
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
