/**
 * The ledger cut-off for an as-of day. Ledger timestamps are UTC instants; a day ends at midnight
 * in the configured zone (Asia/Kolkata: 24-12-2024 ends at 2024-12-24T18:30:00Z), never at a naive
 * or UTC midnight.
 */
import { DateTime, IANAZone } from 'luxon';
import { ReconError } from './errors.js';

/**
 * First instant after the as-of day `yyyy-mm-dd` in `timezone`; transactions strictly before it
 * count.
 */
export function endOfDayUtc(day: string, timezone: string): Date {
  assertTimezone(timezone);
  const start = DateTime.fromISO(day, { zone: timezone });
  if (!start.isValid) throw new ReconError('RECON_INTERNAL', `invalid as-of day ${day}`);
  return start.plus({ days: 1 }).startOf('day').toJSDate();
}

/** The calendar day of an instant in `timezone`, as `yyyy-mm-dd`. */
export function dayInZone(instant: Date, timezone: string): string {
  assertTimezone(timezone);
  return DateTime.fromJSDate(instant, { zone: timezone }).toISODate() as string;
}

/** The day after `day`, as `yyyy-mm-dd`. */
export function nextDay(day: string): string {
  return DateTime.fromISO(day, { zone: 'UTC' }).plus({ days: 1 }).toISODate() as string;
}

export function assertTimezone(timezone: string): void {
  if (!IANAZone.isValidZone(timezone)) {
    throw new ReconError(
      'RECON_CONFIG_INVALID',
      `timezone "${timezone}" is not an IANA time zone (e.g. Asia/Kolkata)`,
    );
  }
}
