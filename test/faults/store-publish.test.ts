/**
 * The publish protocol against the real test server (FerretDB 1.24 unless MONGO_URI is set): a
 * rerun
 * of a day larger than one delete can hold, cleanup failing after the flip, a commit whose answer
 * is
 * lost, and two runs of one day at once.
 */
import { expect } from 'chai';
import sinon from 'sinon';
import { MongoStore } from '../../core/store/mongodb.js';
import type { RunSummary } from '../../core/store/types.js';
import { emptyCounts, type ReconRow } from '../../core/reconcile.js';
import { visibleRun } from './readers.js';
import { countResults, testMongoUri } from '../support/database.js';
import { useDay } from '../support/day.js';
import { summaryOf } from '../../fixtures/summary.js';

function summary(runId: string, startedAt: Date, rows: number): RunSummary {
  const counts = { ...emptyCounts(), matched: rows };
  return summaryOf({
    runId,
    status: 'running',
    startedAt,
    finishedAt: startedAt,
    allSources: false,
    counts,
    sources: {
      CAMS: { plugin: 'cams', asOf: '2024-12-24', files: [], rows, deleted: 0, keys: rows, counts },
    },
  });
}

function rows(n: number): ReconRow[] {
  return Array.from({ length: n }, (_, i) => ({
    source: 'CAMS',
    status: 'matched',
    asOf: '2024-12-24',
    productCode: 'P1',
    folio: String(i),
    schemeName: null,
    dbfUnits: 10_000,
    mongoUnits: 10_000,
    difference: 0,
    dbfRows: 1,
    decimals: 3,
  }));
}

describe('faults: the publish protocol in the store', function () {
  this.timeout(120_000);
  const world = useDay('fault_store', { each: true, folder: false });
  let store: MongoStore;

  beforeEach(() => {
    store = new MongoStore({
      uri: testMongoUri(),
      database: world.database,
      resultsCollection: 'reconciliation_results',
      runsCollection: 'reconciliation_runs',
      batchSize: 5000,
      staleAfterMs: 3600_000,
    });
  });
  afterEach(() => sinon.restore());

  async function publish(run: RunSummary, n: number): Promise<number> {
    await store.begin(run);
    await store.writeRows(run, rows(n));
    await store.commit(run);
    return store.supersede(run);
  }

  it("reruns a day of more than 32,766 rows: the older run's rows are deleted in batches and the rerun stays committed", async () => {
    const first = summary('run-a', new Date(Date.now() - 60_000), 33_000);
    await publish(first, 33_000);
    const second = summary('run-b', new Date(), 5);
    expect(await publish(second, 5)).to.equal(33_000);
    const results = world.db.collection('reconciliation_results');
    expect(await results.countDocuments({ as_of_date: '2024-12-24', source: 'CAMS' })).to.equal(5);
    const doc = await world.db.collection('reconciliation_runs').findOne({ _id: 'run-b' as never });
    expect(doc?.status).to.equal('committed');
    expect(doc?.cleanup_pending).to.equal(undefined);
    expect((await visibleRun(world.db, 'CAMS', '2024-12-24'))?.runId).to.equal('run-b');
  });

  it('finishes an interrupted cleanup at the start of a later run, and removes rows of failed runs', async () => {
    await publish(summary('run-a', new Date(Date.now() - 60_000), 40), 40);
    const second = summary('run-b', new Date(Date.now() - 30_000), 30);
    await store.begin(second);
    await store.writeRows(second, rows(30));
    await store.commit(second); // cleanup never ran: a crash right after the flip
    const crashed = summary('run-c', new Date(Date.now() - 20_000), 10);
    await store.begin(crashed);
    await store.writeRows(crashed, rows(10));
    crashed.status = 'failed';
    await world.db
      .collection('reconciliation_runs')
      .updateOne({ _id: 'run-c' as never }, { $set: { status: 'failed' } }); // marked failed, rows left behind
    expect(await visibleRun(world.db, 'CAMS', '2024-12-24')).to.deep.include({
      runId: 'run-b',
      rows: 30,
    });
    const report = await store.tidy();
    expect(report).to.deep.equal({ failedRuns: 1, pendingCleanups: 1, rowsDeleted: 50 });
    expect(await world.db.collection('reconciliation_results').countDocuments({})).to.equal(30);
    expect(await store.tidy()).to.deep.equal({ failedRuns: 0, pendingCleanups: 0, rowsDeleted: 0 });
  });

  it('refuses to publish a run when a run started after it already published the same day, and removes its rows', async () => {
    const older = summary('run-old', new Date(Date.now() - 60_000), 20);
    await store.begin(older);
    await store.writeRows(older, rows(10));
    await publish(summary('run-new', new Date(), 15), 15);
    // the older run goes on writing after the newer one's cleanup
    await store.writeRows(older, rows(20));
    const err = await store.commit(older).then(
      () => null,
      (e: unknown) => e as { code: string },
    );
    expect(err?.code).to.equal('RECON_SUPERSEDED');
    older.status = 'failed';
    expect(await store.fail(older)).to.equal('failed');
    expect(
      await world.db
        .collection('reconciliation_results')
        .countDocuments({ source: 'CAMS', as_of_date: '2024-12-24' }),
    ).to.equal(15);
    expect(await visibleRun(world.db, 'CAMS', '2024-12-24')).to.deep.include({
      runId: 'run-new',
      rows: 15,
    });
  });

  it('reports a run whose commit answer was lost as committed, and keeps its rows', async () => {
    const run = summary('run-x', new Date(), 12);
    await store.begin(run);
    await store.writeRows(run, rows(12));
    const original = MongoStore.prototype.commit;
    sinon.stub(MongoStore.prototype, 'commit').callsFake(async function (
      this: MongoStore,
      r: RunSummary,
    ) {
      await original.call(this, r);
      throw Object.assign(new Error('connection reset after the write'), { code: 'ECONNRESET' });
    });
    await store.commit(run).catch(() => undefined);
    run.status = 'failed';
    expect(await store.fail(run)).to.equal('committed');
    expect(await countResults(world.db, 'run-x')).to.equal(12);
    expect(
      (await world.db.collection('reconciliation_runs').findOne({ _id: 'run-x' as never }))?.status,
    ).to.equal('committed');
  });
});
