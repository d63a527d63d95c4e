/**
 * The publish protocol against the real test server (FerretDB 1.24 unless MONGO_URI is set): a
 * rerun of a day larger than one delete can hold, cleanup failing after the flip, a commit whose
 * answer is lost, and two runs of one day at once.
 */
import { expect } from 'chai';
import { Collection } from 'mongodb';
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

  it('keeps at most three insert batches in flight, and fails a write only once none is in flight', async () => {
    const small = new MongoStore({
      uri: testMongoUri(),
      database: world.db.databaseName,
      resultsCollection: 'reconciliation_results',
      runsCollection: 'reconciliation_runs',
      batchSize: 10,
      staleAfterMs: 3600_000,
    });
    const insertMany = Collection.prototype.insertMany;
    let inFlight = 0;
    let most = 0;
    let calls = 0;
    let failAt = -1;
    sinon.stub(Collection.prototype, 'insertMany').callsFake(async function (
      this: Collection,
      ...args: Parameters<Collection['insertMany']>
    ) {
      const call = calls++;
      inFlight++;
      most = Math.max(most, inFlight);
      try {
        // A slow server: each batch takes a while, so the next ones are sent meanwhile.
        await new Promise((r) => setTimeout(r, call === failAt ? 5 : 40));
        if (call === failAt) throw new Error('injected: the server went away');
        return await insertMany.apply(this, args);
      } finally {
        inFlight--;
      }
    });
    const ok = summary('run-ok', new Date(Date.now() - 60_000), 95);
    await small.begin(ok);
    await small.writeRows(ok, rows(95));
    expect(calls).to.equal(10);
    expect(most).to.equal(3);
    const results = world.db.collection('reconciliation_results');
    expect(await results.countDocuments({ reconciliation_run_id: 'run-ok' })).to.equal(95);

    calls = 0;
    failAt = 4;
    const bad = summary('run-bad', new Date(), 95);
    await small.begin(bad);
    const err = await small.writeRows(bad, rows(95)).then(
      () => null,
      (e: unknown) => ({ e: e as { code: string; message: string }, inFlight }),
    );
    expect(err?.e.code).to.equal('RECON_STORE_WRITE');
    expect(err?.e.message).to.contain('injected: the server went away');
    // Nothing of this run is still being written when the failure is known: fail() removes all.
    expect(err?.inFlight).to.equal(0);
    sinon.restore();
    bad.status = 'failed';
    expect(await small.fail(bad)).to.equal('failed');
    expect(await results.countDocuments({ reconciliation_run_id: 'run-bad' })).to.equal(0);
  });

  it("finds the previous day's breaks from the latest committed run, whatever rows an unfinished run left", async () => {
    const day = (run: RunSummary, asOf: string) => {
      run.sources.CAMS.asOf = asOf;
      return run;
    };
    const breaks = (asOf: string, n: number, status: ReconRow['status'] = 'mismatched') =>
      rows(n).map((r) => ({ ...r, asOf, status, difference: 5_000 }));
    const older = day(summary('run-23a', new Date(Date.now() - 90_000), 4), '2024-12-23');
    await store.begin(older);
    await store.writeRows(older, breaks('2024-12-23', 4));
    await store.commit(older);
    const latest = day(summary('run-23b', new Date(Date.now() - 60_000), 3), '2024-12-23');
    await store.begin(latest);
    await store.writeRows(latest, [...breaks('2024-12-23', 2), ...rows(1)]);
    await store.commit(latest); // its cleanup never ran: run-23a's rows are still there
    // A run of the 24th still running (or killed) has left rows of its own.
    const unfinished = day(summary('run-24', new Date(Date.now() - 30_000), 5), '2024-12-24');
    await store.begin(unfinished);
    await store.writeRows(unfinished, breaks('2024-12-24', 5, 'dbf_only'));

    const previous = await store.previousBreaks('CAMS', '2024-12-25');
    expect(previous.map((b) => [b.folio, b.status, b.asOf])).to.have.deep.members([
      ['0', 'mismatched', '2024-12-23'],
      ['1', 'mismatched', '2024-12-23'],
    ]);
    expect(await store.previousBreaks('CAMS', '2024-12-23')).to.deep.equal([]);
    expect(await store.previousBreaks('KARVY', '2024-12-25')).to.deep.equal([]);
  });

  it("skips the scan of the results when no earlier run can have rows of the day, and still removes a stalled earlier run's rows", async () => {
    const find = sinon.spy(Collection.prototype, 'find');
    const resultScans = () =>
      find.thisValues.filter((c: Collection) => c.collectionName === 'reconciliation_results')
        .length;
    const other = summary('run-23', new Date(Date.now() - 90_000), 6);
    other.sources.CAMS.asOf = '2024-12-23';
    await store.begin(other);
    await store.writeRows(
      other,
      rows(6).map((r) => ({ ...r, asOf: '2024-12-23' })),
    );
    await store.commit(other);
    await store.supersede(other);
    // The first run of the 24th: the runs of other days cannot have rows of it.
    const first = summary('run-a', new Date(Date.now() - 60_000), 8);
    const before = resultScans();
    expect(await publish(first, 8)).to.equal(0);
    expect(resultScans()).to.equal(before);
    // An earlier run of the 24th still running (a stalled process) with rows: scanned, rows gone.
    const stalled = summary('run-s', new Date(Date.now() - 50_000), 3);
    await store.begin(stalled);
    await store.writeRows(stalled, rows(3));
    const second = summary('run-b', new Date(), 5);
    expect(await publish(second, 5)).to.equal(8 + 3);
    expect(resultScans()).to.be.greaterThan(before);
    const results = world.db.collection('reconciliation_results');
    expect(await results.countDocuments({ as_of_date: '2024-12-24' })).to.equal(5);
    expect(await results.countDocuments({ as_of_date: '2024-12-23' })).to.equal(6);
  });
});
