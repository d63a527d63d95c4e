/**
 * The reconciliation key is (product code, folio). Folio numbers are unique only within an AMC, so
 * the product code stays in the key. The two parts are joined with NUL, which trimmed registrar and
 * ledger text never contains (the decoder strips NUL padding, and keyOf rejects it elsewhere).
 */
const SEP = '\u0000';

export function keyOf(productCode: string, folio: string): string {
  return productCode + SEP + folio;
}

export function splitKey(key: string): [productCode: string, folio: string] {
  const i = key.indexOf(SEP);
  return [key.slice(0, i), key.slice(i + 1)];
}

/** True when a key part could not be joined unambiguously. */
export function hasSeparator(part: string): boolean {
  return part.includes(SEP);
}
