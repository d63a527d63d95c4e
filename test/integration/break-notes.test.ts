import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LoadedConfig } from '../../config/load.js';
import type { BreakLine } from '../../core/report/data.js';
import type { BreakHistory } from '../../core/report/queries.js';
import { writeCamsFile } from '../../fixtures/registrar-files.js';
import { mongoEnv } from '../support/database.js';
import { runOnce } from '../support/run.js';
import { transactions } from '../../fixtures/transactions.js';
import { CAMS_SOURCE } from '../support/config.js';
import { useDay } from '../support/day.js';
import { cli } from '../support/cli.js';

const exec = promisify(execFile);
const tx = transactions();
const LEDGER = [
  tx('B01', '1', 'BUY', 10, '2024-12-20T09:00:00Z', { nav: 50 }),
  tx('B01', '2', 'BUY', 5, '2024-12-20T09:00:00Z', { nav: 50 }),
];

for (const kind of ['files store', 'MongoDB store (FerretDB)'] as const) {
  describe(`notes, owners and states follow a break across four days: ${kind}`, function () {
    this.timeout(120_000);
    const world = useDay('notes', { offline: kind === 'files store', transactions: LEDGER });
    let loaded: LoadedConfig;
    const recon = async (...args: string[]) =>
      (
        await exec(
          process.execPath,
          [cli, ...args, '--config', join(world.dir, 'recon.config.yaml')],
          {
            env: mongoEnv(),
          },
        )
      ).stdout;
    /** `recon breaks note CAMS B01 1 TEXT [options]`. */
    const noteFolio1 = (text: string, ...options: string[]) =>
      recon('breaks', 'note', 'CAMS', 'B01', '1', text, ...options);
    const breaks = async (...args: string[]) =>
      JSON.parse(await recon('breaks', '--json', ...args)) as BreakLine[];

    async function day(asOf: string, folio1Units: number): Promise<void> {
      await writeCamsFile(join(world.dir, 'incoming', 'cams.dbf'), [
        { product: 'B01', folio: '1', units: folio1Units, asOf },
        // Always one unit short: a second break that persists every day.
        { product: 'B01', folio: '2', units: 4, asOf },
      ]);
      const run = await runOnce(loaded, { force: true });
      expect(run.status, JSON.stringify(run.error)).to.equal('committed');
    }

    before(async () => {
      loaded = await world.config(
        `${world.stores(', aggregation: client')}sources:\n${CAMS_SOURCE}\n`,
      );
    });

    it('shows the note while the break persists, keeps its history when it resolves, and flags it reopened when it comes back', async () => {
      // Day 1: B01/1 is one unit short in the file (at the file's NAV ₹101.25), B01/2 too.
      await day('23-12-2024', 9);
      await noteFolio1(
        'asked CAMS for the statement',
        '--owner',
        'asha',
        '--state',
        'investigating',
        '--author',
        'ops1',
      );
      let list = await breaks();
      const b1 = () => list.find((b) => b.folio_no === '1');
      expect(b1()).to.include({
        lifecycle: 'new',
        note: 'asked CAMS for the statement',
        owner: 'asha',
        state: 'investigating',
        note_author: 'ops1',
        value: 101.25,
      });

      // Day 2: still broken: the note, owner and state are shown; a later note without an owner
      // keeps the owner.
      await day('24-12-2024', 9);
      await noteFolio1('CAMS says a redemption is pending', '--author', 'ops2');
      list = await breaks();
      expect(b1()).to.include({
        lifecycle: 'persisting',
        first_seen: '2024-12-23',
        age_days: 1,
        note: 'CAMS says a redemption is pending',
        owner: 'asha',
        state: 'investigating',
        notes: 2,
      });
      expect((await breaks('--owner', 'asha')).map((b) => b.folio_no)).to.deep.equal(['1']);
      expect((await breaks('--state', 'investigating')).map((b) => b.folio_no)).to.deep.equal([
        '1',
      ]);
      expect((await breaks('--state', 'open')).map((b) => b.folio_no)).to.deep.equal(['2']);
      expect((await breaks('--min-value', '101.25')).map((b) => b.folio_no)).to.deep.equal([
        '1',
        '2',
      ]);
      expect((await breaks('--min-value', '101.26')).map((b) => b.folio_no)).to.deep.equal([]);

      // Day 3: resolved. It is off the list; its history keeps both days and both notes.
      await day('25-12-2024', 10);
      list = await breaks();
      expect(b1()).to.equal(undefined);
      const h3 = JSON.parse(
        await recon('breaks', 'history', 'CAMS', 'B01', '1', '--json'),
      ) as BreakHistory;
      expect(h3.days.map((d) => [d.as_of_date, d.status, d.value])).to.deep.equal([
        ['2024-12-23', 'mismatched', 101.25],
        ['2024-12-24', 'mismatched', 101.25],
      ]);
      expect(h3.resolved).to.deep.equal(['2024-12-25']);
      expect(h3.notes.map((n) => n.text)).to.deep.equal([
        'asked CAMS for the statement',
        'CAMS says a redemption is pending',
      ]);

      // Day 4: back again: reopened, not new, with the day it had been resolved on.
      await day('26-12-2024', 9);
      list = await breaks();
      expect(b1()).to.include({
        lifecycle: 'reopened',
        reopened_after: '2024-12-25',
        first_seen: '2024-12-26',
        owner: 'asha',
      });
      expect(list.find((b) => b.folio_no === '2')).to.include({
        lifecycle: 'persisting',
        first_seen: '2024-12-23',
        age_days: 3,
      });
      const text = await recon('breaks', 'history', 'CAMS', 'B01', '1');
      expect(text)
        .to.match(
          /2024-12-24\s+mismatched\s+persisting[^\n]*\n2024-12-25\s+resolved\s*\n2024-12-26\s+mismatched\s+reopened/,
        )
        .and.contain('ops1')
        .and.contain('state=investigating');
      expect(JSON.parse(await recon('runs', '--json'))[0]).to.include({
        status: 'committed',
        asOf: '2024-12-26',
      });
      const bad = await exec(
        process.execPath,
        [cli, 'breaks', '--min-value', 'lots', '--config', join(world.dir, 'recon.config.yaml')],
        { env: mongoEnv() },
      ).then(
        () => null,
        (e: { code: number; stderr: string }) => e,
      );
      expect(bad?.code).to.equal(2);
      expect(bad?.stderr).to.contain('expected rupees');
      const empty = await exec(
        process.execPath,
        [
          cli,
          'breaks',
          'note',
          'CAMS',
          'B01',
          '1',
          ' ',
          '--config',
          join(world.dir, 'recon.config.yaml'),
        ],
        { env: mongoEnv() },
      ).then(
        () => null,
        (e: { code: number; stderr: string }) => e,
      );
      expect([empty?.code, empty?.stderr.trim()]).to.deep.equal([
        2,
        'recon: RECON_USAGE: a note needs some text',
      ]);
      if (world.database) {
        const indexes = await world.db.collection('break_notes').indexes();
        expect(indexes.map((i) => i.key)).to.deep.include({
          source: 1,
          product_code: 1,
          folio_no: 1,
          at: 1,
        });
      }
    });
  });
}
