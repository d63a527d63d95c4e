import { expect } from 'chai';
import {
  ageBreak,
  daysBetween,
  previousById,
  resolvedBreaks,
  type LifecycleSummary,
  type PreviousBreak,
} from '../../../core/breaks/lifecycle.js';
import type { ReconRow } from '../../../core/reconcile.js';

function row(
  folio: string,
  status: ReconRow['status'],
  difference: number,
  source: string | null = 'CAMS',
): ReconRow {
  return {
    source,
    status,
    asOf: '2024-12-25',
    productCode: 'P1',
    folio,
    schemeName: null,
    dbfUnits: null,
    mongoUnits: null,
    difference,
    dbfRows: 0,
    decimals: 4,
  } as ReconRow;
}
function prev(
  folio: string,
  status: string,
  difference: number,
  firstSeen: string,
  source: string | null = 'CAMS',
): PreviousBreak {
  return { source, asOf: '2024-12-24', productCode: 'P1', folio, status, difference, firstSeen };
}
const empty = (): LifecycleSummary => ({
  new: 0,
  persisting: 0,
  changed: 0,
  reopened: 0,
  resolved: [],
});

describe('break lifecycle (pure)', () => {
  it('counts whole calendar days across a month and year end', () => {
    expect(daysBetween('2024-12-30', '2025-01-02')).to.equal(3);
  });

  it('calls a break changed when only its status moved (same difference)', () => {
    const r = row('F1', 'mongo_only', 20_000);
    const s = empty();
    ageBreak(r, previousById([prev('F1', 'mismatched', 2, '2024-12-20')]), s);
    expect(r).to.include({ lifecycle: 'changed', firstSeen: '2024-12-20', ageDays: 5 });
    expect(s).to.include({ changed: 1, persisting: 0 });
  });

  it('treats the same product and folio under another source as a different break', () => {
    const r = row('F1', 'mismatched', 20_000, 'KARVY');
    const s = empty();
    ageBreak(r, previousById([prev('F1', 'mismatched', 2, '2024-12-20', 'CAMS')]), s);
    expect(r).to.include({ lifecycle: 'new', firstSeen: '2024-12-25', ageDays: 0 });
  });

  it('resolves only breaks of sources this run covers', () => {
    const previous = [
      prev('F1', 'dbf_only', -2, '2024-12-22', 'CAMS'),
      prev('F2', 'dbf_only', -2, '2024-12-22', 'KARVY'),
    ];
    const out = resolvedBreaks(
      previous,
      () => false,
      (source) => (source === 'CAMS' ? '2024-12-25' : undefined),
    );
    expect(out.map((r) => [r.source, r.folio, r.resolvedOn])).to.deep.equal([
      ['CAMS', 'F1', '2024-12-25'],
    ]);
  });
});
