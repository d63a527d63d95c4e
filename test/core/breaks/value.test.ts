import { expect } from 'chai';
import {
  formatRupees,
  storedPaise,
  valueBreak,
  valuePaise,
  ValueTotals,
} from '../../../core/breaks/value.js';
import { materialityToPaise } from '../../../core/fixed-point.js';
import type { ReconRow } from '../../../core/reconcile.js';

const row = (difference: number, nav: number | null, extra: Partial<ReconRow> = {}): ReconRow => ({
  source: 'CAMS',
  status: 'mismatched',
  asOf: '2024-12-24',
  productCode: 'B01',
  folio: '1',
  schemeName: null,
  dbfUnits: 0,
  mongoUnits: difference,
  difference,
  dbfRows: 1,
  decimals: 3,
  nav,
  ...extra,
});

describe('break value (difference × NAV, integer paise)', () => {
  it('values 0.5 units at NAV 101.25 as 50.63 rupees: 50.625 rounds half away from zero', () => {
    expect(valuePaise(5_000, 1_012_500)).to.equal(5_063);
  });

  it('keeps the sign of a negative difference and rounds its half away from zero too', () => {
    expect(valuePaise(-5_000, 1_012_500)).to.equal(-5_063);
    expect(valuePaise(-1, 4_500_000)).to.equal(-5); // -0.0001 × 450 = -0.045 → -0.05
    expect(valuePaise(-1, 4_499_999)).to.equal(-4); // -0.04499999 → -0.04
  });

  it('rounds at exactly half a paisa up and just below it down', () => {
    expect(valuePaise(1, 4_500_000)).to.equal(5);
    expect(valuePaise(1, 4_499_999)).to.equal(4);
    expect(valuePaise(1, 1)).to.equal(0); // 10^-8 rupees
    expect(Object.is(valuePaise(-1, 1), 0)).to.equal(true); // never -0
  });

  it('is exact where a float product is not (90 million units at NAV 9999.9999)', () => {
    const difference = 900_000_000_000,
      nav = 99_999_999;
    expect(Number.isSafeInteger(difference * nav)).to.equal(false);
    expect(valuePaise(difference, nav)).to.equal(89_999_999_100_000);
  });

  it('agrees with the BigInt result on either side of 2^53 and at every remainder around half a paisa', () => {
    const big = (d: number, n: number) => {
      const p = BigInt(d) * BigInt(n),
        m = p < 0n ? -p : p;
      const q = m / 1_000_000n + ((m % 1_000_000n) * 2n >= 1_000_000n ? 1n : 0n);
      return Number(p < 0n ? -q : q);
    };
    const cases: [number, number][] = [
      [1, 499_999],
      [1, 500_000],
      [3, 166_667],
      [-7, 71_429],
      [94_906_265, 94_906_265],
      [94_906_267, 94_906_267],
      [123_456_789_012, 72_961],
      [-123_456_789_012, 72_961],
    ];
    for (let r = 499_990; r <= 500_010; r++) cases.push([1, r], [-1, r], [1_000_001, r]);
    // Past 2^53, where the product is cut at 10^6 on both sides: every remainder around half a
    // paisa, products near the end of the exact range, and random ones.
    for (let r = 499_990; r <= 500_010; r++) cases.push([-123_456_000_000, 1_000_000 + r]);
    cases.push(
      [9_007_199_254, 999_999_999],
      [-9_007_199_254_740_991, 1],
      [4_503_599_627_370_496, 2],
    );
    let seed = 11;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
    for (let i = 0; i < 20_000; i++)
      cases.push([(next() * 2 ** 12 + next()) * (i % 2 ? -1 : 1), next() % 100_000_000]);
    for (const [d, n] of cases) expect(valuePaise(d, n), `${d} × ${n}`).to.equal(big(d, n) || 0);
  });

  it('fails loudly when a value leaves the exact integer range', () => {
    expect(() => valuePaise(9_000_000_000_000_000, 99_999_999))
      .to.throw()
      .with.property('code', 'RECON_FIXED_POINT_OVERFLOW');
    expect(() => valuePaise(0.5, 10))
      .to.throw()
      .with.property('code', 'RECON_FIXED_POINT_OVERFLOW');
  });

  it('reads reconcile.materiality as paise and refuses fractions of a paisa and negatives', () => {
    expect(materialityToPaise(0)).to.equal(0);
    expect(materialityToPaise(100)).to.equal(10_000);
    expect(materialityToPaise(0.01)).to.equal(1);
    expect(materialityToPaise(1234.56)).to.equal(123_456);
    expect(() => materialityToPaise(0.005))
      .to.throw()
      .with.property('code', 'RECON_CONFIG_INVALID');
    expect(() => materialityToPaise(-1))
      .to.throw()
      .with.property('code', 'RECON_CONFIG_INVALID');
  });

  it('takes the file NAV first, the ledger NAV when the file has none, and says when there is none', () => {
    const fromFile = row(10_000, 1_012_500);
    valueBreak(fromFile, 200_000, 0);
    expect(fromFile).to.include({
      nav: 1_012_500,
      navSource: 'file',
      valuePaise: 10_125,
      immaterial: false,
    });
    const fromLedger = row(10_000, null);
    valueBreak(fromLedger, 200_000, 0);
    expect(fromLedger).to.include({ nav: 200_000, navSource: 'ledger', valuePaise: 2_000 });
    const none = row(10_000, null);
    valueBreak(none, undefined, 1_000_000);
    expect(none).to.include({ nav: null, navSource: null, valuePaise: null, immaterial: false });
  });

  it('marks a break immaterial strictly below materiality, whatever its sign; at materiality it is material', () => {
    const materiality = materialityToPaise(100);
    const at = (difference: number) => {
      const r = row(difference, 1_000_000);
      valueBreak(r, undefined, materiality);
      return r;
    };
    // 1 unit at ₹100: exactly ₹100.00
    expect(at(10_000)).to.include({ valuePaise: 10_000, immaterial: false });
    expect(at(9_999)).to.include({ valuePaise: 9_999, immaterial: true }); // 0.9999 units: ₹99.99
    expect(at(-9_999)).to.include({ valuePaise: -9_999, immaterial: true });
    expect(at(-10_000)).to.include({ valuePaise: -10_000, immaterial: false });
    expect(at(0)).to.include({ valuePaise: 0, immaterial: true });
  });

  it('totals per source, status and reason in integer paise: gross of magnitudes, net signed, unvalued counted', () => {
    const totals = new ValueTotals();
    for (const r of [
      row(5_000, 1_012_500),
      row(-5_000, 1_012_500),
      row(10_000, null),
      row(1, 1, { status: 'dbf_only', reason: { code: 'timing' } }),
    ]) {
      valueBreak(r, undefined, 0);
      totals.add(r);
    }
    expect(totals.list()).to.deep.equal([
      {
        source: 'CAMS',
        status: 'mismatched',
        reason: null,
        breaks: 3,
        unvalued: 1,
        immaterial: 0,
        grossPaise: 10_126n,
        netPaise: 0n,
      },
      {
        source: 'CAMS',
        status: 'dbf_only',
        reason: 'timing',
        breaks: 1,
        unvalued: 0,
        immaterial: 0,
        grossPaise: 0n,
        netPaise: 0n,
      },
    ]);
  });

  it('totals past 2^53 paise stay exact (BigInt), and a document stores such a total as its decimal text', () => {
    const totals = new ValueTotals();
    const r = row(900_000_000_000, 99_999_999); // ₹8,99,99,99,91,000.00 each
    valueBreak(r, undefined, 0);
    for (let i = 0; i < 1_000; i++) totals.add(r);
    const [g] = totals.list();
    expect(g.grossPaise).to.equal(89_999_999_100_000_000n);
    expect(storedPaise(g.grossPaise)).to.equal('89999999100000000');
    expect(storedPaise(-5n)).to.equal(-5);
    expect(formatRupees(storedPaise(g.grossPaise))).to.equal('89,99,99,99,10,00,000.00');
  });

  it('prints paise as rupees with Indian digit grouping', () => {
    expect(formatRupees(123_456_789)).to.equal('12,34,567.89');
    expect(formatRupees(-5)).to.equal('-0.05');
    expect(formatRupees(0)).to.equal('0.00');
    expect(formatRupees(100_000)).to.equal('1,000.00');
    expect(formatRupees(89_999_999_100_000)).to.equal('8,99,99,99,91,000.00');
  });
});
