import { expect } from 'chai';
import { keyOf } from '../../core/keys/text-key.js';
import { findMongoOnly, type LedgerPosition } from '../../core/reconcile.js';
import { reconcileSource, type Holding } from '../support/reference.js';

const h = (productCode: string, folio: string, units: number, rows = 1): Holding => ({
  key: keyOf(productCode, folio),
  productCode,
  folio,
  schemeName: null,
  units,
  rows,
});
/** findMongoOnly over one day's positions against a CAMS file as of 2024-12-24. */
const mongoOnlyOn24th = (
  positions: Map<string, LedgerPosition>,
  rest: Omit<Parameters<typeof findMongoOnly>[0], 'positionsByDay' | 'sources'>,
) =>
  findMongoOnly({
    positionsByDay: new Map([['2024-12-24', positions]]),
    sources: [{ source: 'CAMS', asOf: '2024-12-24', decimals: 4 }],
    ...rest,
  });
const p = (productCode: string, folio: string, units: number): [string, LedgerPosition] => [
  keyOf(productCode, folio),
  { productCode, folio, units, transactions: 1 },
];

describe('reconcile', () => {
  it('gives each key exactly one status with the tolerance inclusive', () => {
    const holdings = [h('A', '1', 100_000), h('A', '2', 100_000), h('A', '3', 5), h('B', '1', 7)];
    const positions = new Map([p('A', '1', 100_010), p('A', '2', 100_011), p('A', '3', 5)]);
    const rows = [
      ...reconcileSource(
        { source: 'CAMS', asOf: '2024-12-24', decimals: 3, holdings },
        positions,
        10,
      ),
    ];
    const status = Object.fromEntries(
      rows.map((r) => [`${r.productCode}/${r.folio}`, [r.status, r.difference]]),
    );
    expect(status).to.deep.equal({
      'A/1': ['matched', 10],
      'A/2': ['mismatched', 11],
      'A/3': ['matched', 0],
      'B/1': ['dbf_only', -7],
    });
  });

  it('keeps the product code in the key: one folio under two AMCs is two keys', () => {
    const holdings = [h('A', '1', 100)];
    const positions = new Map([p('B', '1', 100)]);
    const rows = [
      ...reconcileSource(
        { source: 'CAMS', asOf: '2024-12-24', decimals: 4, holdings },
        positions,
        0,
      ),
    ];
    expect(rows.map((r) => r.status)).to.deep.equal(['dbf_only']);
    const mo = mongoOnlyOn24th(positions, {
      listed: (p, f) => holdings.some((x) => x.productCode === p && x.folio === f),
      ownerOf: () => null,
      includeUnowned: true,
      tolerance: 0,
    });
    expect(mo.rows.map((r) => [r.productCode, r.folio, r.status, r.source])).to.deep.equal([
      ['B', '1', 'mongo_only', null],
    ]);
  });

  it('counts a zero-net ledger position that no file lists as closed, not mongo_only', () => {
    const positions = new Map([p('A', '9', 0), p('A', '8', 5)]);
    const mo = mongoOnlyOn24th(positions, {
      listed: () => false,
      ownerOf: () => 'CAMS',
      includeUnowned: true,
      tolerance: 10,
    });
    expect(mo.closed).to.equal(2);
    expect(mo.rows).to.have.length(0);
  });

  it('leaves positions of sources outside a partial run alone', () => {
    const positions = new Map([p('K1', '1', 50), p('U1', '1', 50)]);
    const mo = mongoOnlyOn24th(positions, {
      listed: () => false,
      ownerOf: (pc) => (pc === 'K1' ? 'KARVY' : null),
      includeUnowned: false,
      tolerance: 0,
    });
    expect(mo.rows).to.have.length(0);
  });
});
