/**
 * A ledger value as units: the forms the ledger stores (numbers, Decimal128, numeric strings) to
 * ten-thousandths. Imports only bson, so the offline reader and the pool's threads load no driver.
 */
import { Decimal128 } from 'bson';
import { parseUnitsText, unitsFromDouble } from '../fixed-point.js';

/** Decimal128, numeric strings and numbers to ten-thousandths; anything else is not a number. */
export function unitsFromValue(value: unknown): number | null {
  if (typeof value === 'number') return unitsFromDouble(value);
  if (typeof value === 'string') return parseUnitsText(value);
  if (
    value instanceof Decimal128 ||
    (typeof value === 'object' &&
      value !== null &&
      (value as { _bsontype?: string })._bsontype === 'Decimal128')
  ) {
    return parseUnitsText(String(value));
  }
  if (typeof value === 'bigint') return parseUnitsText(value.toString());
  return null;
}
