import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { copyFile, readdir, readFile, rename, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../../config/load.js';
import { writeCamsFile } from '../../fixtures/registrar-files.js';
import { ReconPool } from '../../core/pool.js';
import { runOnce } from '../support/run.js';
import { CAMS_SOURCE, OFFLINE_STORES } from '../support/config.js';
import { useDay } from '../support/day.js';
import { cli } from '../support/cli.js';

const exec = promisify(execFile);

const CONFIG = `${OFFLINE_STORES}sources:
${CAMS_SOURCE}
`;

describe('several files per source (offline)', function () {
  this.timeout(60_000);
  const world = useDay('files', {
    offline: true,
    each: true,
    config: CONFIG,
    ledger: [
      '{"product_code":"B01","folio_no":"1","units":15,"transaction_type":"BUY","transaction_date":{"$date":"2024-12-20T00:00:00Z"}}',
      '{"product_code":"H01","folio_no":"1","units":{"$numberDecimal":"7.5"},"transaction_type":"BUY","transaction_date":{"$date":"2024-12-20T00:00:00Z"}}',
    ].join('\n'),
  });

  it('sums a key across every file that matches the pattern, counting its rows', async () => {
    await writeCamsFile(join(world.dir, 'incoming', 'cams_amc1.dbf'), [
      { product: 'B01', folio: '1', units: 10, asOf: '24-12-2024' },
      { product: 'H01', folio: '1', units: 7.5, asOf: '24-12-2024' },
    ]);
    await writeCamsFile(join(world.dir, 'incoming', 'cams_amc2.dbf'), [
      { product: 'B01', folio: '1', units: 5, asOf: '24-12-2024' },
    ]);
    const run = await runOnce(await loadConfig({ path: join(world.dir, 'recon.config.yaml') }));
    expect(run.status, JSON.stringify(run.error)).to.equal('committed');
    expect(run.sources.CAMS.files.map((f) => f.name)).to.deep.equal([
      'cams_amc1.dbf',
      'cams_amc2.dbf',
    ]);
    const csv = await readFile(join(world.dir, 'out', 'runs', run.runId, 'results.csv'), 'utf8');
    expect(csv).to.match(/,CAMS,matched,B01,1,Scheme B01,15,15,0,2,{10}\n/); // the break columns are empty on a matched row
    expect(csv).to.match(/,CAMS,matched,H01,1,Scheme H01,7.5,7.5,0,1,{10}\n/);
  });

  it('refuses files of one source with different as-of days, naming both', async () => {
    await writeCamsFile(join(world.dir, 'incoming', 'cams_a.dbf'), [
      { product: 'B01', folio: '1', units: 10, asOf: '24-12-2024' },
    ]);
    await writeCamsFile(join(world.dir, 'incoming', 'cams_b.dbf'), [
      { product: 'B01', folio: '1', units: 5, asOf: '23-12-2024' },
    ]);
    const run = await runOnce(await loadConfig({ path: join(world.dir, 'recon.config.yaml') }));
    expect(run.status).to.equal('failed');
    expect(run.error?.code).to.equal('RECON_ASOF_MIXED');
    expect(run.error?.message).to.contain('cams_a.dbf').and.contain('cams_b.dbf');
  });

  it('refuses one file holding two as-of days, naming the record', async () => {
    await writeCamsFile(join(world.dir, 'incoming', 'cams_a.dbf'), [
      { product: 'B01', folio: '1', units: 10, asOf: '24-12-2024' },
      { product: 'B01', folio: '2', units: 1, asOf: '25-12-2024' },
    ]);
    const run = await runOnce(await loadConfig({ path: join(world.dir, 'recon.config.yaml') }));
    expect(run.error).to.include({
      code: 'RECON_ASOF_MIXED',
      file: 'cams_a.dbf',
      record: 2,
      field: 'ASSET_DATE',
    });
  });

  describe('a registrar file that changes while the run reads it', () => {
    /** A pool that does `change` before decoding the run's first range. */
    class ChangingPool extends ReconPool {
      private changed = false;
      constructor(private readonly change: () => Promise<void>) {
        super(2);
      }
      override async decode(...args: Parameters<ReconPool['decode']>) {
        if (!this.changed) {
          this.changed = true;
          await this.change();
        }
        return super.decode(...args);
      }
    }

    const rows = (units: number) => [
      { product: 'B01', folio: '1', units, asOf: '24-12-2024' },
      { product: 'H01', folio: '1', units: 7.5, asOf: '24-12-2024' },
    ];

    for (const [what, message, change] of [
      [
        'replaced by another file',
        'another file was put in its place',
        (file: string, next: string) => rename(next, file),
      ],
      [
        'moved away (an archiving job)',
        'it is no longer there',
        (file: string) => rename(file, join(world.dir, 'archived.dbf')),
      ],
      [
        'written to in place, at the same size',
        'it was written to',
        async (file: string, next: string) => {
          const before = await stat(file);
          await copyFile(next, file);
          // Whatever the file system's timestamp granularity, the write shows in the mtime.
          await utimes(file, before.atime, new Date(before.mtimeMs + 5_000));
        },
      ],
    ] as const) {
      it(`fails the run, naming the file, when it is ${what}, and publishes nothing`, async () => {
        const file = join(world.dir, 'incoming', 'cams_amc1.dbf');
        const next = join(world.dir, 'cams-next.dbf');
        await writeCamsFile(file, rows(10));
        await writeCamsFile(next, rows(20)); // the same size: only the units differ
        const pool = new ChangingPool(() => change(file, next));
        const config = await loadConfig({ path: join(world.dir, 'recon.config.yaml') });
        try {
          const run = await runOnce(config, { pool });
          expect(run.status).to.equal('failed');
          expect(run.error).to.include({ code: 'RECON_FETCH', file: 'cams_amc1.dbf' });
          expect(run.error?.message).to.contain(
            `source CAMS: cams_amc1.dbf changed while the run read it (${message}`,
          );
          expect(await readdir(join(world.dir, 'out', 'runs'))).to.deep.equal([]);
          // The next delivery is the new version (where the file was moved away, delivered again).
          await stat(file).catch(() => copyFile(next, file));
          // The next run reads the file as it is now, whole: nothing was recorded as done.
          const again = await runOnce(config, { pool });
          expect(again.status, JSON.stringify(again.error)).to.equal('committed');
          const csv = await readFile(
            join(world.dir, 'out', 'runs', again.runId, 'results.csv'),
            'utf8',
          );
          expect(csv).to.match(/,CAMS,mismatched,B01,1,Scheme B01,20,15,-5,1,/);
        } finally {
          await pool.close();
        }
      });
    }
  });

  it('fails clearly when no file matches, and the CLI says so in one line', async () => {
    const r = await exec(process.execPath, [
      cli,
      'run',
      '--config',
      join(world.dir, 'recon.config.yaml'),
      '--log-level',
      'silent',
    ]).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(r?.code).to.equal(3);
    expect(r?.stderr).to.match(
      /^recon: RECON_NO_FILES: source CAMS: no file in .*incoming matches cams\*\.dbf\n$/,
    );
  });

  it('answers --help on every command with exit 0', async () => {
    for (const args of [['--help'], ['run', '--help'], ['validate-config', '--help']]) {
      const { stdout } = await exec(process.execPath, [cli, ...args]);
      expect(stdout, args.join(' ')).to.contain('Usage: recon');
    }
  });
});
