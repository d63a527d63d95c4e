import { expect } from 'chai';
import { join } from 'node:path';
import { resolveColumns } from '../../../core/dbf/columns.js';
import { readDbfLayout } from '../../../core/dbf/layout.js';
import { decodeRange } from '../../../core/dbf/decoder.js';
import { KeySpace } from '../../../core/keys/key-space.js';
import { ReconError } from '../../../core/errors.js';
import { keyOf } from '../../../core/keys/text-key.js';
import karvy from '../../../sources/karvy/index.js';
import { patchField, writeKarvyFile } from '../../../fixtures/registrar-files.js';
import { withTempDir } from '../../support/day.js';
import { rangeTask } from '../../support/decode.js';
import { assembleTableSync, type ReferenceTable } from '../../support/reference.js';

describe('decoder keys', () => {
  let dir: string;
  withTempDir('keys', (d) => (dir = d));

  async function decode(file: string): Promise<ReferenceTable> {
    const layout = await readDbfLayout(file);
    const rows = decodeRange(rangeTask(file, layout, resolveColumns(layout, karvy)), karvy);
    return assembleTableSync([rows], new KeySpace());
  }

  it('sums product codes that differ only in case into one key, as the plugin normalises them', async () => {
    const file = join(dir, 'case.dbf');
    await writeKarvyFile(file, [
      { prcode: 'b01', acno: 42, units: 1.5, asOf: '24-12-2024' },
      { prcode: 'B01', acno: 42, units: 2.25, asOf: '24-12-2024' },
      { prcode: 'B01', acno: 43, units: 1, asOf: '24-12-2024' },
    ]);
    const table = await decode(file);
    expect([...table].map((h) => [h.key, h.units, h.rows])).to.deep.equal([
      [keyOf('B01', '42'), 37_500, 2],
      [keyOf('B01', '43'), 10_000, 1],
    ]);
  });

  it('reads a numeric folio written as 00123.000 as 123', async () => {
    const file = join(dir, 'zeros.dbf');
    await writeKarvyFile(file, [{ prcode: 'B01', acno: 1, units: 1, asOf: '24-12-2024' }]);
    await patchField(file, 0, 'ACNO', '00123.000');
    expect([...(await decode(file))].map((h) => h.key)).to.deep.equal([keyOf('B01', '123')]);
  });

  it('rejects a numeric folio with a fraction, naming the record and field', async () => {
    const file = join(dir, 'fraction.dbf');
    await writeKarvyFile(file, [
      { prcode: 'B01', acno: 1, units: 1, asOf: '24-12-2024' },
      { prcode: 'B01', acno: 2, units: 1, asOf: '24-12-2024' },
    ]);
    await patchField(file, 1, 'ACNO', '12.5');
    const err = await decode(file).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(ReconError);
    expect((err as ReconError).code).to.equal('RECON_DBF_KEY');
    expect((err as ReconError).message).to.contain('record 2 field ACNO');
  });
});
