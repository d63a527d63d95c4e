import { expect } from 'chai';
import {
  parseUnitsBytes,
  parseUnitsText,
  toleranceToUnits,
  unitsFromDouble,
  unitsFromDoubleSum,
  unitsToNumber,
  unitsToText,
} from '../../core/fixed-point.js';

const bytes = (s: string) => Buffer.from(s, 'latin1');
const parseB = (s: string) => parseUnitsBytes(bytes(s), 0, s.length);

describe('fixed-point units', () => {
  it('parses padded DBF numerics into ten-thousandths', () => {
    expect(parseB('         916.253')).to.equal(9_162_530);
    expect(parseB('  916.2530')).to.equal(9_162_530);
    expect(parseB('-12.5')).to.equal(-125_000);
    expect(parseB('0')).to.equal(0);
    expect(parseB('.5')).to.equal(5_000);
    expect(parseB('7.')).to.equal(70_000);
    expect(parseB('1.23450')).to.equal(12_345);
  });

  it('rejects blanks, letters, extra signs and non-zero fifth decimals', () => {
    for (const bad of ['', '     ', 'ABC', '1.2.3', '--1', '1-', '1.23456', '1e3', '12 34', '.']) {
      expect(Number.isNaN(parseB(bad)), bad).to.equal(true);
    }
  });

  it('parses decimal text exactly, including exponents, rounding half away from zero past 4 decimals', () => {
    const cases: [string, number | null][] = [
      ['916.253', 9_162_530],
      [' -0.00005 ', -1],
      ['0.00004', 0],
      ['9.16253E+2', 9_162_530],
      ['1E-4', 1],
      ['12', 120_000],
      ['abc', null],
      ['', null],
    ];
    for (const [text, units] of cases) expect(parseUnitsText(text), text).to.equal(units);
  });

  it('converts a double through its shortest decimal text, not its binary error', () => {
    expect(unitsFromDouble(0.1 + 0.2)).to.equal(3_000);
    expect(unitsFromDouble(916.253)).to.equal(9_162_530);
    expect(unitsFromDouble(Number.NaN)).to.equal(null);
  });

  it('accepts a server double sum only near the 10^-4 grid', () => {
    expect(unitsFromDoubleSum(0.1 + 0.2)).to.equal(3_000);
    expect(unitsFromDoubleSum(1.00005)).to.equal(null);
  });

  it('sums many small doubles without drift once converted', () => {
    let float = 0;
    let fixed = 0;
    for (let i = 0; i < 10_000; i++) {
      float += 0.1;
      fixed += unitsFromDouble(0.1)!;
    }
    expect(float).to.not.equal(1000);
    expect(fixed).to.equal(1000 * 10_000);
  });

  it('rounds to the source decimals for documents', () => {
    expect(unitsToNumber(9_162_535, 3)).to.equal(916.254);
    expect(unitsToNumber(-9_162_535, 3)).to.equal(-916.254);
    expect(unitsToNumber(9_162_535, 4)).to.equal(916.2535);
    expect(unitsToText(10_000, 3)).to.equal('1.000');
  });

  it('takes tolerance on the 10^-4 grid only', () => {
    expect(toleranceToUnits(0.001)).to.equal(10);
    expect(toleranceToUnits(0)).to.equal(0);
    expect(() => toleranceToUnits(0.00001)).to.throw(/at most 4 decimals/);
  });
});

describe('fixed-point edge cases', () => {
  it('treats huge exponents as overflow and tiny ones as zero, without building huge strings', () => {
    expect(() => parseUnitsText('1e400')).to.throw(/too large/);
    expect(parseUnitsText('1e-400000000')).to.equal(0);
    expect(parseUnitsText('0e999999')).to.equal(0);
    expect(parseUnitsText('-0.00')).to.equal(0);
  });
});
