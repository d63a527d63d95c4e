/**
 * Typed arrays in shared memory. Everything a range or a merge partition hands on lives in a
 * SharedArrayBuffer: the main thread passes views of it between tasks and reads it without a copy.
 * (Copies were measured: every received copy counts as new external memory in the receiving thread,
 * and the main thread, which holds the ledger's objects, paid for it in full GCs.)
 */
type Ctor<T> = { new (buffer: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number };
type Shareable = Int32Array | Uint32Array | Float64Array | Uint8Array | Uint16Array;

/** A zeroed shared array of `n` elements (at least one byte is allocated). */
export function sharedArray<T extends Shareable>(ctor: Ctor<T>, n: number): T {
  return new ctor(new SharedArrayBuffer(Math.max(1, n) * ctor.BYTES_PER_ELEMENT));
}

/** The first `n` elements of `a`, copied into shared memory. */
export function sharedCopy<T extends Shareable>(a: T, n: number): T {
  const out = sharedArray(a.constructor as Ctor<T>, n);
  out.set(a.subarray(0, n) as unknown as ArrayLike<number>);
  return out;
}
