import { expect } from 'chai';
import { KeySpace } from '../../core/keys/key-space.js';
import { numericFolioCode } from '../../core/keys/folio-code.js';
import { KeyTable } from '../../core/keys/key-table.js';

describe('numeric keys', () => {
  it('gives a plain whole-number folio its own value as code and every other text none', () => {
    expect(['0', '7', '1014433353', '999999999999999'].map(numericFolioCode)).to.deep.equal([
      0, 7, 1014433353, 999999999999999,
    ]);
    expect(
      ['', '00123', '0123', '1234567890123456', '12a', '12 ', '-5', '1.0', '١٢'].map(
        numericFolioCode,
      ),
    ).to.deep.equal([-1, -1, -1, -1, -1, -1, -1, -1, -1]);
  });

  it('keeps "00123" and "123" two folios, as they are two strings, and maps every text back to itself', () => {
    const space = new KeySpace();
    const texts = ['123', '00123', 'F1', '12345678/12', '1234567890123456', '0'];
    const codes = texts.map((t) => space.folio(t));
    expect(new Set(codes).size).to.equal(texts.length);
    expect(codes.map((c) => space.folioText(c))).to.deep.equal(texts);
    expect(space.findFolio('00123')).to.equal(codes[1]);
    expect(Number.isNaN(space.findFolio('never-seen'))).to.equal(true);
    expect(space.findProduct('P')).to.equal(-1);
    expect(space.product('P')).to.equal(0);
    expect(space.findProduct('P')).to.equal(0);
    expect(space.findFolio('123')).to.equal(123);
  });

  it('finds every key it was given, across growth, and no key it was not', () => {
    const t = new KeyTable(4);
    const keys: [number, number][] = [];
    for (let i = 0; i < 50_000; i++)
      keys.push([i % 37, i % 3 === 0 ? -1 - i : 1_000_000_000_000 + i * 7919]);
    keys.forEach(([p, f], i) => expect(t.insert(p, f)).to.equal(i));
    expect(t.size).to.equal(keys.length);
    keys.forEach(([p, f], i) => {
      if (t.find(p, f) !== i) expect.fail(`key ${p}/${f} at ${t.find(p, f)}, expected ${i}`);
    });
    expect(t.insert(keys[123][0], keys[123][1])).to.equal(123);
    expect(t.size).to.equal(keys.length);
    expect(t.find(36, 1_000_000_000_000 + 1 * 7919)).to.equal(-1);
    expect(t.find(1, -2)).to.equal(-1);
    const copy = KeyTable.from(t.data());
    expect(copy.find(keys[49_999][0], keys[49_999][1])).to.equal(49_999);
  });
});
