import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'chai';
import { writeCamsFile, type CamsRow } from '../../fixtures/registrar-files.js';
import { transactions } from '../../fixtures/transactions.js';
import { mongoStores } from '../support/config.js';
import { breakDocuments } from '../support/database.js';
import { useDay } from '../support/day.js';
import { runOnce } from '../support/run.js';

const tx = transactions({ scheme: 'Scheme P1' });
/** A transaction of product P1 at NAV 10. */
const p1 = (folio: string, units: number, at: string, type = 'BUY') =>
  tx('P1', folio, type, units, at, { nav: 10 });

describe('break lifecycle across three as-of days (FerretDB)', function () {
  this.timeout(60_000);
  const world = useDay('lifecycle', { folder: false });
  const run = async () =>
    runOnce(
      await world.config(`${mongoStores(world.database)}pool: { threads: 1 }
sources:
  - { name: CAMS, plugin: cams, fetch: { type: local, dir: ./cams, pattern: "*.dbf" } }
`),
      { force: true },
    );

  async function filesFor(asOf: string, rows: Omit<CamsRow, 'asOf'>[]): Promise<void> {
    const dir = world.path('cams');
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await writeCamsFile(
      join(dir, 'cams.dbf'),
      rows.map((r) => ({ ...r, asOf })),
    );
  }

  async function breaksOf(runId: string) {
    const docs = await breakDocuments(world.db, runId);
    return Object.fromEntries(
      docs.map((d) => [
        d.folio_no as string,
        {
          status: d.status,
          lifecycle: d.lifecycle,
          first_seen: d.first_seen,
          age_days: d.age_days,
        },
      ]),
    );
  }

  it('ages a mongo_only break whose units moved as changed, and a rerun of a middle day compares with the day before it', async () => {
    const file = [
      { product: 'P1', folio: 'F1', units: 10 },
      { product: 'P1', folio: 'F2', units: 20 },
      { product: 'P1', folio: 'F3', units: 30 },
    ];
    await world.seed([
      p1('F1', 10, '2024-12-20T09:00:00Z'),
      p1('F2', 25, '2024-12-20T09:00:00Z'),
      p1('F4', 5, '2024-12-20T09:00:00Z'),
    ]);
    // Day 1: F2 mismatched, F3 dbf_only, F4 mongo_only, all new.
    await filesFor('23-12-2024', file);
    const day1 = await run();
    expect(day1.status, JSON.stringify(day1.error)).to.equal('committed');
    expect(await breaksOf(day1.runId)).to.deep.equal({
      F2: { status: 'mismatched', lifecycle: 'new', first_seen: '2024-12-23', age_days: 0 },
      F3: { status: 'dbf_only', lifecycle: 'new', first_seen: '2024-12-23', age_days: 0 },
      F4: { status: 'mongo_only', lifecycle: 'new', first_seen: '2024-12-23', age_days: 0 },
    });
    expect(day1.breaks?.resolved).to.deep.equal([]);

    // Day 2: F3 bought (resolved), F4 grows (changed), F2 unchanged (persisting), F5 appears (new).
    await world.seed([p1('F3', 30, '2024-12-24T09:00:00Z'), p1('F4', 1, '2024-12-24T09:00:00Z')]);
    await filesFor('24-12-2024', [...file, { product: 'P1', folio: 'F5', units: 7 }]);
    const expectedDay2 = {
      F2: { status: 'mismatched', lifecycle: 'persisting', first_seen: '2024-12-23', age_days: 1 },
      F4: { status: 'mongo_only', lifecycle: 'changed', first_seen: '2024-12-23', age_days: 1 },
      F5: { status: 'dbf_only', lifecycle: 'new', first_seen: '2024-12-24', age_days: 0 },
    };
    const day2 = await run();
    expect(day2.status, JSON.stringify(day2.error)).to.equal('committed');
    expect(await breaksOf(day2.runId)).to.deep.equal(expectedDay2);
    expect(
      day2.breaks?.resolved.map((r) => [r.folio, r.status, r.firstSeen, r.asOf, r.resolvedOn]),
    ).to.deep.equal([['F3', 'dbf_only', '2024-12-23', '2024-12-23', '2024-12-24']]);
    expect(day2.breaks).to.include({ new: 1, persisting: 1, changed: 1 });

    // A rerun of day 2 compares with day 1 again, not with the superseded day-2 run.
    const rerun = await run();
    expect(await breaksOf(rerun.runId)).to.deep.equal(expectedDay2);
    expect(rerun.breaks?.resolved.map((r) => r.folio)).to.deep.equal(['F3']);

    // Day 3: F2 sold down to the file (resolved), F1 bought one more (new), F4 and F5 persist.
    await world.seed([
      p1('F2', 5, '2024-12-25T09:00:00Z', 'SELL'),
      p1('F1', 1, '2024-12-25T09:00:00Z'),
    ]);
    await filesFor('25-12-2024', [...file, { product: 'P1', folio: 'F5', units: 7 }]);
    const day3 = await run();
    expect(await breaksOf(day3.runId)).to.deep.equal({
      F1: { status: 'mismatched', lifecycle: 'new', first_seen: '2024-12-25', age_days: 0 },
      F4: { status: 'mongo_only', lifecycle: 'persisting', first_seen: '2024-12-23', age_days: 2 },
      F5: { status: 'dbf_only', lifecycle: 'persisting', first_seen: '2024-12-24', age_days: 1 },
    });
    expect(day3.breaks?.resolved.map((r) => [r.folio, r.status, r.firstSeen])).to.deep.equal([
      ['F2', 'mismatched', '2024-12-23'],
    ]);

    const runDoc = await world.db
      .collection('reconciliation_runs')
      .findOne({ _id: day3.runId as never });
    expect(runDoc?.breaks.resolved).to.deep.equal([
      {
        source: 'CAMS',
        product_code: 'P1',
        folio_no: 'F2',
        status: 'mismatched',
        first_seen: '2024-12-23',
        resolved_on: '2024-12-25',
      },
    ]);
  });
});
