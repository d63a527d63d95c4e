import { expect } from 'chai';
import { parseAsOfDate } from '../../../core/dbf/date-formats.js';
import { endOfDayUtc } from '../../../core/day-boundary.js';

describe('as-of dates', () => {
  it('reads every registrar format to the same day', () => {
    for (const t of [
      '24-12-2024',
      '24/12/2024',
      '24-Dec-2024',
      '24-DEC-2024',
      '20241224',
      ' 24-12-2024 ',
    ]) {
      expect(parseAsOfDate(t), t).to.equal('2024-12-24');
    }
  });

  it('rejects impossible days and other formats rather than guessing', () => {
    for (const t of [
      '31-02-2024',
      '2024-12-24',
      '12/24/2024',
      '24-13-2024',
      '24.12.2024',
      '',
      'yesterday',
      '24-Dex-2024',
    ]) {
      expect(parseAsOfDate(t), t).to.equal(null);
    }
  });

  it('honours the plugin formats', () => {
    expect(parseAsOfDate('24/12/2024', ['dd-mm-yyyy'])).to.equal(null);
  });

  it('ends 24-12-2024 at 18:30 UTC in Asia/Kolkata, not at a UTC or naive midnight', () => {
    expect(endOfDayUtc('2024-12-24', 'Asia/Kolkata').toISOString()).to.equal(
      '2024-12-24T18:30:00.000Z',
    );
    expect(endOfDayUtc('2024-12-24', 'UTC').toISOString()).to.equal('2024-12-25T00:00:00.000Z');
  });
});
