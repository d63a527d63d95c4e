import { expect } from 'chai';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunSummary } from '../../core/store/types.js';
import { writeCamsFile, writeKarvyFile } from '../../fixtures/registrar-files.js';
import { transactions } from '../../fixtures/transactions.js';
import { mongoStores } from '../support/config.js';
import { breakDocuments } from '../support/database.js';
import { useDay } from '../support/day.js';
import { runOnce } from '../support/run.js';

const tx = transactions({ scheme: 'S' });
/** The expected [status, reason, evidence] of a break paired with a probable key mismatch. */
const pairedWith = (status: string, product_code: string, folio_no: string) => [
  status,
  'probable_key_mismatch',
  { pair: { product_code, folio_no } },
];

describe('breaks across days: lifecycle, ageing and reasons', function () {
  this.timeout(120_000);
  const world = useDay('breaks', { each: true, folder: false });

  async function runDay(asOf: string, sources: string): Promise<RunSummary> {
    const loaded = await world.config(
      `${mongoStores(world.database)}sources:\n${sources.replaceAll('DAY', asOf)}`,
    );
    const run = await runOnce(loaded, { force: true });
    expect(run.status, JSON.stringify(run.error)).to.equal('committed');
    return run;
  }

  async function breaksOf(runId: string) {
    const rows = await breakDocuments(world.db, runId);
    return Object.fromEntries(
      rows.map((r) => [
        r.folio_no,
        {
          status: r.status,
          difference: r.difference,
          lifecycle: r.lifecycle,
          first_seen: r.first_seen,
          age_days: r.age_days,
        },
      ]),
    );
  }

  it('marks breaks new, persisting and changed with first_seen and age, lists resolved ones, and does not age on a rerun', async () => {
    await world.seed([
      tx('A', '1', 'BUY', 10, '2024-12-20T00:00:00Z'),
      tx('A', '2', 'BUY', 25, '2024-12-20T00:00:00Z'),
      tx('A', '2', 'BUY', 1, '2024-12-25T04:30:00Z'),
      tx('A', '3', 'BUY', 30, '2024-12-24T04:30:00Z'),
      tx('A', '4', 'BUY', 40, '2024-12-20T00:00:00Z'),
      tx('A', '4', 'BUY', 1, '2024-12-24T04:30:00Z'),
      tx('A', '5', 'BUY', 5, '2024-12-25T04:30:00Z'),
      tx('A', '6', 'BUY', 7, '2024-12-25T04:30:00Z'),
    ]);
    const files: Record<string, [string, number][]> = {
      '2024-12-23': [
        ['1', 10],
        ['2', 20],
        ['3', 30],
        ['4', 40],
      ],
      '2024-12-24': [
        ['1', 10],
        ['2', 20],
        ['3', 30],
        ['4', 40],
        ['5', 5],
      ],
      '2024-12-25': [
        ['1', 10],
        ['2', 20],
        ['3', 30],
        ['4', 40],
        ['5', 5],
      ],
    };
    const runs: Record<string, RunSummary> = {};
    for (const [day, rows] of Object.entries(files)) {
      const d = join(world.dir, day);
      await mkdir(d);
      const [y, m, dd] = day.split('-');
      await writeCamsFile(
        join(d, 'cams.dbf'),
        rows.map(([folio, units]) => ({ product: 'A', folio, units, asOf: `${dd}-${m}-${y}` })),
      );
      runs[day] = await runDay(
        day,
        '  - { name: CAMS, plugin: cams, fetch: { type: local, dir: ./DAY, pattern: "cams*.dbf" } }',
      );
    }
    expect(await breaksOf(runs['2024-12-23'].runId)).to.deep.equal({
      2: {
        status: 'mismatched',
        difference: 5,
        lifecycle: 'new',
        first_seen: '2024-12-23',
        age_days: 0,
      },
      3: {
        status: 'dbf_only',
        difference: -30,
        lifecycle: 'new',
        first_seen: '2024-12-23',
        age_days: 0,
      },
    });
    expect(await breaksOf(runs['2024-12-24'].runId)).to.deep.equal({
      2: {
        status: 'mismatched',
        difference: 5,
        lifecycle: 'persisting',
        first_seen: '2024-12-23',
        age_days: 1,
      },
      4: {
        status: 'mismatched',
        difference: 1,
        lifecycle: 'new',
        first_seen: '2024-12-24',
        age_days: 0,
      },
      5: {
        status: 'dbf_only',
        difference: -5,
        lifecycle: 'new',
        first_seen: '2024-12-24',
        age_days: 0,
      },
    });
    expect(
      runs['2024-12-24'].breaks?.resolved.map((r) => [r.folio, r.status, r.firstSeen]),
    ).to.deep.equal([['3', 'dbf_only', '2024-12-23']]);
    const day3 = {
      2: {
        status: 'mismatched',
        difference: 6,
        lifecycle: 'changed',
        first_seen: '2024-12-23',
        age_days: 2,
      },
      4: {
        status: 'mismatched',
        difference: 1,
        lifecycle: 'persisting',
        first_seen: '2024-12-24',
        age_days: 1,
      },
      6: {
        status: 'mongo_only',
        difference: 7,
        lifecycle: 'new',
        first_seen: '2024-12-25',
        age_days: 0,
      },
    };
    expect(await breaksOf(runs['2024-12-25'].runId)).to.deep.equal(day3);
    expect(runs['2024-12-25'].breaks).to.include({ new: 1, persisting: 1, changed: 1 });
    expect(runs['2024-12-25'].breaks?.resolved.map((r) => r.folio)).to.deep.equal(['5']);
    const doc = await world.db
      .collection('reconciliation_runs')
      .findOne({ _id: runs['2024-12-25'].runId as never });
    expect(doc?.breaks.resolved).to.deep.equal([
      {
        source: 'CAMS',
        product_code: 'A',
        folio_no: '5',
        status: 'dbf_only',
        first_seen: '2024-12-24',
        resolved_on: '2024-12-25',
      },
    ]);
    // A rerun of the same day compares with the 24th again: nothing ages.
    const rerun = await runDay(
      '2024-12-25',
      '  - { name: CAMS, plugin: cams, fetch: { type: local, dir: ./DAY, pattern: "cams*.dbf" } }',
    );
    expect(await breaksOf(rerun.runId)).to.deep.equal(day3);
  });

  it('explains pledged units, next-day timing and probable key mismatches, and only where they apply', async () => {
    await world.seed([
      tx('K1', '100', 'BUY', 100, '2024-12-20T00:00:00Z'), // file 90 + PLDG 10: pledged
      tx('K1', '101', 'BUY', 100, '2024-12-20T00:00:00Z'), // file 90 + PLDG 5: unexplained
      tx('A', '1', 'BUY', 90, '2024-12-20T00:00:00Z'),
      tx('A', '1', 'BUY', 10, '2024-12-25T03:00:00Z'), // booked a day late: timing
      tx('A', '2', 'BUY', 90, '2024-12-20T00:00:00Z'),
      tx('A', '2', 'BUY', 7, '2024-12-25T03:00:00Z'), // next day does not explain it
      tx('B', '123', 'BUY', 50, '2024-12-20T00:00:00Z'), // file has 00123: probable key mismatch
      tx('C', '555', 'BUY', 5, '2024-12-20T00:00:00Z'), // file has 555/01
      tx('D', '8000', 'BUY', 3, '2024-12-20T00:00:00Z'), // file has 9000 with FOLIO_OLD 8000
      tx('E', '0777', 'BUY', 6, '2024-12-20T00:00:00Z'), // file has 777 but 5 units: not a pair
    ]);
    await writeCamsFile(join(world.dir, 'cams.dbf'), [
      { product: 'A', folio: '1', units: 100, asOf: '24-12-2024' },
      { product: 'A', folio: '2', units: 100, asOf: '24-12-2024' },
      { product: 'B', folio: '00123', units: 50, asOf: '24-12-2024' },
      { product: 'C', folio: '555/01', units: 5, asOf: '24-12-2024' },
      { product: 'D', folio: '9000', units: 3, asOf: '24-12-2024', folioOld: '8000' },
      { product: 'E', folio: '777', units: 5, asOf: '24-12-2024' },
    ]);
    await writeKarvyFile(join(world.dir, 'karvy.dbf'), [
      { prcode: 'K1', acno: 100, units: 90, pledged: 10, asOf: '24/12/2024' },
      { prcode: 'K1', acno: 101, units: 90, pledged: 5, asOf: '24/12/2024' },
    ]);
    const run = await runDay(
      '2024-12-24',
      `  - { name: CAMS, plugin: cams, fetch: { type: local, dir: ., pattern: "cams*.dbf" } }
  - { name: KARVY, plugin: karvy, fetch: { type: local, dir: ., pattern: "karvy*.dbf" } }`,
    );
    const rows = await breakDocuments(world.db, run.runId);
    const reasons = Object.fromEntries(
      rows.map((r) => [`${r.product_code}/${r.folio_no}`, [r.status, r.reason, r.reason_detail]]),
    );
    const timingTx = await world.db
      .collection('wealth_pulse_transactions')
      .findOne({ product_code: 'A', folio_no: '1', units: 10 });
    expect(reasons).to.deep.equal({
      'K1/100': ['mismatched', 'pledged', {}],
      'K1/101': ['mismatched', null, null],
      'A/1': ['mismatched', 'timing', { transaction_ids: [String(timingTx?._id)] }],
      'A/2': ['mismatched', null, null],
      'B/00123': pairedWith('dbf_only', 'B', '123'),
      'B/123': pairedWith('mongo_only', 'B', '00123'),
      'C/555/01': pairedWith('dbf_only', 'C', '555'),
      'C/555': pairedWith('mongo_only', 'C', '555/01'),
      'D/9000': pairedWith('dbf_only', 'D', '8000'),
      'D/8000': pairedWith('mongo_only', 'D', '9000'),
      'E/777': ['dbf_only', null, null],
      'E/0777': ['mongo_only', null, null],
    });
  });
});
