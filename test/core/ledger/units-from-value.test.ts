import { expect } from 'chai';
import { Decimal128, Double, Int32, Long } from 'mongodb';
import { unitsFromValue } from '../../../core/ledger/units-value.js';

describe('ledger unit values', () => {
  it('accepts Decimal128, int, double, long and numeric strings exactly', () => {
    expect(unitsFromValue(Decimal128.fromString('12.3456'))).to.equal(123_456);
    expect(unitsFromValue(Decimal128.fromString('1.2E+3'))).to.equal(12_000_000);
    expect(unitsFromValue(916.253)).to.equal(9_162_530);
    expect(unitsFromValue(new Int32(5).valueOf())).to.equal(50_000);
    expect(unitsFromValue(new Double(0.1).valueOf())).to.equal(1_000);
    expect(unitsFromValue(BigInt(Long.fromNumber(7).toString()))).to.equal(70_000);
    expect(unitsFromValue(' 300.5 ')).to.equal(3_005_000);
  });

  it('calls anything else not a number', () => {
    for (const v of ['abc', '', null, undefined, true, {}, Number.NaN, Number.POSITIVE_INFINITY])
      expect(unitsFromValue(v), String(v)).to.equal(null);
  });
});
