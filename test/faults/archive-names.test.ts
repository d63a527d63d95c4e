/**
 * Archive entries and delivered names: two entries sharing a base name are both reconciled under
 * distinct names, names with control characters are refused, a long name is staged under a short
 * one while the run keeps the original, and staging is removed after every run, failed or not.
 */
import { expect } from 'chai';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Uint8ArrayReader, Uint8ArrayWriter, ZipWriter } from '@zip.js/zip.js';
import { loadConfig } from '../../config/load.js';
import { writeCamsFile, type CamsRow } from '../../fixtures/registrar-files.js';
import { runOnce } from '../support/run.js';
import { OFFLINE_STORES } from '../support/config.js';
import { useDay } from '../support/day.js';

function camsRows(folios: string[]): CamsRow[] {
  return folios.map((folio) => ({
    product: 'B01',
    folio,
    units: 10.5,
    asOf: '24-12-2024',
    scheme: 'Scheme',
  }));
}

async function zipOf(entries: { name: string; content: Buffer }[]): Promise<Buffer> {
  const writer = new ZipWriter(new Uint8ArrayWriter());
  for (const e of entries)
    await writer.add(e.name, new Uint8ArrayReader(new Uint8Array(e.content)));
  return Buffer.from(await writer.close());
}

describe('faults: archive entries and delivered names', function () {
  this.timeout(60_000);
  const world = useDay('fault-names', { offline: true, each: true, ledger: '' });

  async function run(pattern: string) {
    await writeFile(
      join(world.dir, 'recon.config.yaml'),
      `${OFFLINE_STORES}pool: { threads: 1 }
sources:
  - { name: CAMS, plugin: cams, fetch: { type: local, dir: ./incoming, pattern: "${pattern}", stagingDir: ./staging } }
`,
    );
    return runOnce(await loadConfig({ path: join(world.dir, 'recon.config.yaml') }), {
      force: true,
    });
  }

  it('reconciles both entries of a zip that share a base name in different folders, under distinct names', async () => {
    await writeCamsFile(join(world.dir, 'a.dbf'), camsRows(['1', '2', '3']));
    await writeCamsFile(join(world.dir, 'b.dbf'), camsRows(['4', '5']));
    await writeFile(
      join(world.dir, 'incoming', 'cams_day.zip'),
      await zipOf([
        { name: 'a/cams.dbf', content: await readFile(join(world.dir, 'a.dbf')) },
        { name: 'b/cams.dbf', content: await readFile(join(world.dir, 'b.dbf')) },
      ]),
    );
    const r = await run('cams*.zip');
    expect(r.status, JSON.stringify(r.error)).to.equal('committed');
    expect(r.sources.CAMS.files.map((f) => [f.name, f.records])).to.deep.equal([
      ['cams_day__a_cams.dbf', 3],
      ['cams_day__b_cams.dbf', 2],
    ]);
    expect(r.counts.dbf_only).to.equal(5);
  });

  it('refuses delivered names with control characters, showing them escaped', async () => {
    await writeCamsFile(join(world.dir, 'incoming', 'cams\u001b[2J.dbf'), camsRows(['1']));
    const r = await run('cams*.dbf');
    expect(r.status).to.equal('failed');
    expect(r.error?.code).to.equal('RECON_FETCH_UNSAFE_NAME');
    expect(r.error?.message).to.contain('cams\\u001b[2J.dbf').and.not.contain('\u001b');
  });

  it('stages a 249-character name under a short one and keeps the original in the run', async () => {
    const long = `cams_${'x'.repeat(240)}.dbf`;
    expect(long).to.have.length(249);
    await writeCamsFile(join(world.dir, 'a.dbf'), camsRows(['1', '2']));
    await writeFile(
      join(world.dir, 'incoming', 'day.zip'),
      await zipOf([{ name: long, content: await readFile(join(world.dir, 'a.dbf')) }]),
    );
    const r = await run('day.zip');
    expect(r.status, JSON.stringify(r.error)).to.equal('committed');
    expect(r.sources.CAMS.files.map((f) => f.name)).to.deep.equal([`day__${long}`]);
  });

  it('removes staging after a committed run and after a failed one, and the folder of a killed run', async () => {
    const orphan = join(world.dir, 'staging', '0b1c2d3e-0000-4000-8000-000000000000');
    await mkdir(orphan, { recursive: true });
    await writeFile(
      join(orphan, '.recon-owner'),
      `${(await import('node:os')).hostname()} 2147483646\n`,
    );
    await writeFile(join(orphan, 'big.dbf'), Buffer.alloc(1024));
    await writeCamsFile(join(world.dir, 'a.dbf'), camsRows(['1']));
    await writeFile(
      join(world.dir, 'incoming', 'cams_ok.zip'),
      await zipOf([{ name: 'cams.dbf', content: await readFile(join(world.dir, 'a.dbf')) }]),
    );
    expect((await run('cams_ok.zip')).status).to.equal('committed');
    expect(readdirSync(join(world.dir, 'staging'))).to.deep.equal([]);
    expect(existsSync(orphan)).to.equal(false);
    await writeFile(
      join(world.dir, 'incoming', 'cams_bad.zip'),
      await zipOf([
        { name: 'cams.dbf', content: Buffer.from('not a dbf at all, but staged first') },
      ]),
    );
    const failed = await run('cams_bad.zip');
    expect(failed.status).to.equal('failed');
    expect(failed.error?.code).to.match(/^RECON_DBF/);
    expect(readdirSync(join(world.dir, 'staging'))).to.deep.equal([]);
  });
});
