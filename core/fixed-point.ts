/**
 * Units as exact fixed-point: an integer count of ten-thousandths (10^-4 units), held in a JS
 * number. Integers below 2^53 add exactly, which covers balances up to 900 billion units; every sum
 * is checked against that bound rather than trusted. Values are converted once, from their decimal
 * text, never by multiplying a float.
 */
import { ReconError } from './errors.js';
import { unpaddedEnd, unpaddedStart } from './field-padding.js';

export const SCALE = 10_000;
export const SCALE_DIGITS = 4;

/** Marker returned by the byte parser for text that is not a plain decimal number. */
export const NOT_A_NUMBER = Number.NaN;

/**
 * Parses an ASCII decimal (` -123.4560`, padded with spaces or NULs) from bytes into
 * ten-thousandths.
 * Returns NaN for anything else: blank, letters, a second sign or point, or non-zero digits past
 * the fourth decimal (registrar files carry 3 or 4; more would be silently rounded units).
 * Allocation-free: this runs once per record in the hot loop. `blank` is what blank text gives
 * (evidence columns pass 0: nothing pledged).
 */
export function parseUnitsBytes(
  buf: Uint8Array,
  start: number,
  end: number,
  blank = NOT_A_NUMBER,
): number {
  let i = unpaddedStart(buf, start, end);
  const j = unpaddedEnd(buf, i, end);
  if (i === j) return blank;
  let negative = false;
  if (buf[i] === 0x2d /* - */) {
    negative = true;
    i++;
  } else if (buf[i] === 0x2b /* + */) i++;
  let intPart = 0;
  let digits = 0;
  while (i < j) {
    const c = buf[i];
    if (c < 0x30 || c > 0x39) break;
    intPart = intPart * 10 + (c - 0x30);
    digits++;
    i++;
  }
  let frac = 0;
  let fracDigits = 0;
  if (i < j && buf[i] === 0x2e /* . */) {
    i++;
    while (i < j) {
      const c = buf[i];
      if (c < 0x30 || c > 0x39) return NOT_A_NUMBER;
      if (fracDigits < SCALE_DIGITS) frac = frac * 10 + (c - 0x30);
      else if (c !== 0x30) return NOT_A_NUMBER;
      fracDigits++;
      digits++;
      i++;
    }
  }
  if (i !== j || digits === 0) return NOT_A_NUMBER;
  for (let k = fracDigits; k < SCALE_DIGITS; k++) frac *= 10;
  const value = intPart * SCALE + frac;
  if (!Number.isSafeInteger(value)) return NOT_A_NUMBER;
  return negative ? -value : value;
}

const EXPONENT_TEXT = /^([+-]?)(\d*)\.?(\d*)[eE]([+-]?\d{1,3})$/;

/**
 * An optional evidence value (pledged units, NAV): like parseUnitsBytes, and also exponent form
 * (`1.5E+00`, which some writers use in N fields). Blank is 0 (nothing pledged); NaN when the bytes
 * are no number at all, so the caller counts it and leaves the evidence absent instead of inventing
 * 0.
 */
export function parseEvidenceBytes(buf: Uint8Array, start: number, end: number): number {
  const v = parseUnitsBytes(buf, start, end);
  return Number.isNaN(v) ? evidenceFallback(buf, start, end) : v;
}

/**
 * parseEvidenceBytes for bytes parseUnitsBytes refused: blank, exponent form, or no number (NaN).
 */
export function evidenceFallback(buf: Uint8Array, start: number, end: number): number {
  const i = unpaddedStart(buf, start, end);
  const j = unpaddedEnd(buf, i, end);
  if (i === j) return 0;
  const m = EXPONENT_TEXT.exec(
    Buffer.from(buf.buffer, buf.byteOffset + i, j - i).toString('latin1'),
  );
  if (!m) return NOT_A_NUMBER;
  // Move the point in the text, then parse exactly: a value past the fourth decimal is unreadable,
  // never rounded.
  const [, sign = '', intDigits = '', fracDigits = '', exp] = m;
  const digits = intDigits + fracDigits;
  if (digits.length === 0) return NOT_A_NUMBER;
  const point = intDigits.length + Number(exp);
  const plain =
    point <= 0
      ? '0.' + '0'.repeat(-point) + digits
      : point >= digits.length
        ? digits + '0'.repeat(point - digits.length)
        : digits.slice(0, point) + '.' + digits.slice(point);
  if (plain.length > 40) return NOT_A_NUMBER;
  const bytes = Buffer.from(sign + plain, 'latin1');
  return parseUnitsBytes(bytes, 0, bytes.length);
}

const DECIMAL_TEXT = /^\s*([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/;

/**
 * Parses decimal text (ledger strings, Decimal128's toString, a double's shortest round-trip text)
 * into ten-thousandths, rounding half away from zero past the fourth decimal. Returns null when the
 * text is not a number.
 */
export function parseUnitsText(text: string): number | null {
  const m = DECIMAL_TEXT.exec(text);
  if (!m) return null;
  const [, sign, intDigits = '', fracDigits = '', expText] = m;
  if (intDigits.length === 0 && fracDigits.length === 0) return null;
  // value = mantissa × 10^shift in ten-thousandths; the point moves in text, so no float rounding.
  const mantissa = intDigits + fracDigits;
  const shift = (expText === undefined ? 0 : Number(expText)) - fracDigits.length + SCALE_DIGITS;
  if (/^0*$/.test(mantissa)) return 0;
  if (shift > 20 || mantissa.replace(/^0+/, '').length + shift > 20) {
    throw new ReconError(
      'RECON_FIXED_POINT_OVERFLOW',
      `units value ${text} is too large for exact arithmetic`,
      { rawHex: Buffer.from(text).toString('hex') },
    );
  }
  if (mantissa.length + shift < -1) return 0;
  let whole: string;
  let rest = '';
  if (shift >= 0) {
    whole = mantissa + '0'.repeat(shift);
  } else {
    const cut = mantissa.length + shift;
    whole = cut > 0 ? mantissa.slice(0, cut) : '0';
    rest = cut > 0 ? mantissa.slice(cut) : '0'.repeat(-cut) + mantissa;
  }
  let value = Number(whole);
  if (rest.length > 0 && rest.charCodeAt(0) >= 0x35 /* '5' */) value += 1;
  if (!Number.isSafeInteger(value)) {
    throw new ReconError(
      'RECON_FIXED_POINT_OVERFLOW',
      `units value ${text} is too large for exact arithmetic`,
      { rawHex: Buffer.from(text).toString('hex') },
    );
  }
  return sign === '-' && value !== 0 ? -value : value;
}

/**
 * A double from the ledger, through its shortest round-trip decimal text (what was meant, not its
 * binary error).
 */
export function unitsFromDouble(value: number): number | null {
  if (!Number.isFinite(value)) return null;
  return parseUnitsText(String(value));
}

/**
 * A server-side sum of doubles, to ten-thousandths. Exact when every addend had at most four
 * decimals and the float error stayed below 10^-6 units; returns null when the sum is further than
 * that from the 10^-4 grid, so the caller re-sums the addends one by one.
 */
export function unitsFromDoubleSum(sum: number): number | null {
  if (!Number.isFinite(sum)) return null;
  const scaled = sum * SCALE;
  const rounded = Math.round(scaled);
  if (!Number.isSafeInteger(rounded)) return null;
  if (Math.abs(scaled - rounded) > 0.01) return null;
  return rounded === 0 ? 0 : rounded;
}

/** Adds two fixed-point values, failing loudly instead of losing precision past 2^53. */
export function addUnits(a: number, b: number): number {
  const sum = a + b;
  if (!Number.isSafeInteger(sum)) {
    throw new ReconError(
      'RECON_FIXED_POINT_OVERFLOW',
      `units sum ${a} + ${b} (ten-thousandths) exceeds exact integer range`,
    );
  }
  return sum;
}

/**
 * Rounds ten-thousandths to `decimals` places (half away from zero) and returns the JS number for a
 * document.
 */
export function unitsToNumber(units: number, decimals: number = SCALE_DIGITS): number {
  const d = Math.max(0, Math.min(SCALE_DIGITS, decimals));
  const step = 10 ** (SCALE_DIGITS - d);
  const magnitude = Math.abs(units);
  const rounded = Math.floor((magnitude + step / 2) / step);
  const out = rounded / 10 ** d;
  return units < 0 && out !== 0 ? -out : out;
}

/** Exact decimal text for ten-thousandths, e.g. 9162530 → "916.2530" (for CSV and messages). */
export function unitsToText(units: number, decimals: number = SCALE_DIGITS): string {
  const n = unitsToNumber(units, decimals);
  return n.toFixed(Math.max(0, Math.min(SCALE_DIGITS, decimals)));
}

/** Tolerance from config (units) to ten-thousandths; it must sit on the 10^-4 grid. */
export function toleranceToUnits(tolerance: number): number {
  const units = parseUnitsText(String(tolerance));
  if (units === null || units < 0 || Math.abs(tolerance * SCALE - units) > 1e-6) {
    throw new ReconError(
      'RECON_CONFIG_INVALID',
      `reconcile.tolerance must be a non-negative number with at most 4 decimals, got ${tolerance}`,
    );
  }
  return units;
}

/** `reconcile.materiality` (rupees, at most 2 decimals, not negative) in paise. */
export function materialityToPaise(rupees: number): number {
  const units = parseUnitsText(String(rupees));
  if (units === null || units < 0 || units % 100 !== 0 || Math.abs(rupees * SCALE - units) > 1e-6) {
    throw new ReconError(
      'RECON_CONFIG_INVALID',
      `reconcile.materiality must be a non-negative amount of rupees with at most 2 decimals, got ${rupees}`,
    );
  }
  return units / 100;
}
