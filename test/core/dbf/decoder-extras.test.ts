import { expect } from 'chai';
import { join } from 'node:path';
import { resolveColumns } from '../../../core/dbf/columns.js';
import { readDbfLayout } from '../../../core/dbf/layout.js';
import { decodeRange, type RangeRows } from '../../../core/dbf/decoder.js';
import { KeySpace } from '../../../core/keys/key-space.js';
import { keyOf } from '../../../core/keys/text-key.js';
import cams from '../../../sources/cams/index.js';
import karvy from '../../../sources/karvy/index.js';
import type { SourcePlugin } from '../../../core/plugin.js';
import {
  CAMS_FIELDS,
  patchField,
  withoutColumn,
  writeCamsFile,
  writeKarvyFile,
} from '../../../fixtures/registrar-files.js';
import { withTempDir } from '../../support/day.js';
import { rangeTasks } from '../../support/decode.js';
import { assembleTableSync, type ReferenceTable } from '../../support/reference.js';

async function decodeInRanges(
  file: string,
  plugin: SourcePlugin,
  size: number,
): Promise<{ parts: RangeRows[]; holdings: ReferenceTable }> {
  const layout = await readDbfLayout(file);
  const columns = resolveColumns(layout, plugin);
  const parts = rangeTasks(file, layout, columns, size, { partitions: 2 }).map((task) =>
    decodeRange(task, plugin),
  );
  const holdings = assembleTableSync(parts, new KeySpace());
  return { parts, holdings };
}

describe('decoder: optional pledged and folioOld columns', () => {
  let dir: string;
  withTempDir('extras', (d) => (dir = d));

  it('sums KARVY PLDG per key, also when the rows of one key fall in different ranges', async () => {
    const file = join(dir, 'karvy.dbf');
    await writeKarvyFile(file, [
      { prcode: 'K1', acno: 1, units: 10, pledged: 1.5, asOf: '23-12-2024' },
      { prcode: 'K1', acno: 2, units: 10, asOf: '23-12-2024' },
      { prcode: 'K1', acno: 1, units: 5, pledged: 2.25, asOf: '23-12-2024' },
    ]);
    const { holdings } = await decodeInRanges(file, karvy, 2);
    const one = holdings.get(keyOf('K1', '1'))!,
      two = holdings.get(keyOf('K1', '2'))!;
    expect([one.units, one.rows, one.pledged]).to.deep.equal([150_000, 2, 37_500]);
    expect(two.pledged).to.equal(0);
  });

  it('reads the NAV (CAMS NAV, KARVY LNAV) per key: the first readable one; blank, zero or bad NAVs are absent and counted', async () => {
    const file = join(dir, 'cams-nav.dbf');
    await writeCamsFile(file, [
      { product: 'B1', folio: '1', units: 1, asOf: '23-12-2024' },
      { product: 'B1', folio: '2', units: 1, asOf: '23-12-2024' },
      { product: 'B1', folio: '2', units: 1, asOf: '23-12-2024' },
      { product: 'B1', folio: '3', units: 1, asOf: '23-12-2024' },
      { product: 'B1', folio: '4', units: 1, asOf: '23-12-2024' },
    ]);
    await patchField(file, 1, 'NAV', 'x1.5'); // unreadable; the key's next row has one
    await patchField(file, 3, 'NAV', '');
    await patchField(file, 4, 'NAV', '0.0000');
    const { parts, holdings } = await decodeInRanges(file, cams, 2);
    expect(parts.reduce((n, p) => n + p.navMissing, 0)).to.equal(3);
    expect(['1', '2', '3', '4'].map((f) => holdings.get(keyOf('B1', f))!.nav)).to.deep.equal([
      1_012_500,
      1_012_500,
      null,
      null,
    ]);
    const karvyFile = join(dir, 'karvy-nav.dbf');
    await writeKarvyFile(karvyFile, [{ prcode: 'K1', acno: 1, units: 10, asOf: '23-12-2024' }]);
    const k = await decodeInRanges(karvyFile, karvy, 10);
    expect(k.holdings.get(keyOf('K1', '1'))!.nav).to.equal(255_000);
    // A file whose NAV sits under another name: sources[].columns.nav says which.
    expect(
      resolveColumns(await readDbfLayout(file), cams, { nav: 'closing_as' }).nav?.name,
    ).to.equal('CLOSING_AS');
    const noNav = join(dir, 'cams-no-nav.dbf');
    await writeCamsFile(
      noNav,
      [{ product: 'B1', folio: '1', units: 1, asOf: '23-12-2024' }],
      withoutColumn(CAMS_FIELDS, 'NAV'),
    );
    const n = await decodeInRanges(noNav, cams, 10);
    expect([n.parts[0].navMissing, n.holdings.get(keyOf('B1', '1'))!.nav]).to.deep.equal([0, null]);
  });

  it('keeps the first non-empty CAMS FOLIO_OLD of a key, across ranges', async () => {
    const file = join(dir, 'cams.dbf');
    await writeCamsFile(file, [
      { product: 'P1', folio: 'F1', units: 1, asOf: '23-12-2024' },
      { product: 'P1', folio: 'F1', units: 1, folioOld: 'OLD1', asOf: '23-12-2024' },
      { product: 'P1', folio: 'F1', units: 1, folioOld: 'OLD9', asOf: '23-12-2024' },
      { product: 'P1', folio: 'F2', units: 1, folioOld: 'OLD2', asOf: '23-12-2024' },
    ]);
    const { holdings } = await decodeInRanges(file, cams, 1);
    expect(holdings.get(keyOf('P1', 'F1'))!.folioOld).to.equal('OLD1');
    expect(holdings.get(keyOf('P1', 'F2'))!.folioOld).to.equal('OLD2');
  });

  it('carries no extra arrays when the file lacks the optional column', async () => {
    const file = join(dir, 'cams-no-old.dbf');
    await writeCamsFile(
      file,
      [{ product: 'P1', folio: 'F1', units: 1, asOf: '23-12-2024' }],
      withoutColumn(CAMS_FIELDS, 'FOLIO_OLD'),
    );
    const { parts, holdings } = await decodeInRanges(file, cams, 10);
    expect(parts[0].folioOld).to.equal(undefined);
    expect(parts[0].pledged).to.equal(undefined);
    expect(holdings.get(keyOf('P1', 'F1'))!.folioOld).to.equal(null);
  });

  it('sends no pledged column from a range with no pledged units, and still sums the ranges that have them', async () => {
    const file = join(dir, 'karvy-sparse.dbf');
    await writeKarvyFile(file, [
      { prcode: 'K1', acno: 1, units: 10, asOf: '23-12-2024' },
      { prcode: 'K1', acno: 2, units: 10, asOf: '23-12-2024' },
      { prcode: 'K1', acno: 1, units: 5, pledged: 2.25, asOf: '23-12-2024' },
    ]);
    const { parts, holdings } = await decodeInRanges(file, karvy, 2);
    expect(parts[0].pledged).to.equal(undefined);
    expect(parts[1].pledged).to.not.equal(undefined);
    expect([
      holdings.get(keyOf('K1', '1'))!.pledged,
      holdings.get(keyOf('K1', '2'))!.pledged,
    ]).to.deep.equal([22_500, 0]);
  });
});
