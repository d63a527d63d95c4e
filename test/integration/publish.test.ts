import { expect } from 'chai';
import sinon from 'sinon';
import { MongoStore } from '../../core/store/mongodb.js';
import { IGNORE_DIVIDEND, mongoConfigYaml } from '../support/config.js';
import { useDay } from '../support/day.js';
import { runOnce } from '../support/run.js';
import { countResults, testMongoUri } from '../support/database.js';
import { ReconPool } from '../../core/pool.js';
import { startProxy } from '../setup/tcp-proxy.js';

describe('publish protocol', function () {
  this.timeout(120_000);
  const world = useDay('publish', { scenario: true });

  it('marks a run that crashed before commit failed and removes its rows, keeping committed results visible', async () => {
    const loaded = await world.config(mongoConfigYaml(world.database, IGNORE_DIVIDEND));
    const good = await runOnce(loaded, { force: true });
    expect(good.status).to.equal('committed');
    // A crashed process: its run is still 'running' hours later and its rows are half written.
    const crashed = 'crashed-run';
    await world.db.collection('reconciliation_runs').insertOne({
      _id: crashed as never,
      run_id: crashed,
      status: 'running',
      started_at: new Date(Date.now() - 7 * 3600_000),
    });
    await world.db.collection('reconciliation_results').insertMany([
      {
        reconciliation_run_id: crashed,
        source: 'CAMS',
        as_of_date: '2024-12-24',
        status: 'matched',
        product_code: 'B01',
        folio_no: '1',
      },
    ]);
    const next = await runOnce(loaded, { force: true });
    expect(next.status).to.equal('committed');
    const doc = await world.db.collection('reconciliation_runs').findOne({ _id: crashed as never });
    expect(doc?.status).to.equal('failed');
    expect(doc?.error.code).to.equal('RECON_ABANDONED');
    expect(await countResults(world.db, crashed)).to.equal(0);
    expect(await countResults(world.db, next.runId)).to.equal(17);
    expect(await countResults(world.db, good.runId)).to.equal(0);
  });

  it('fails a run whose database stops answering mid-run, in bounded time, keeping the committed results visible', async function () {
    const direct = new URL(testMongoUri());
    // The proxy stands in for one host; a seed list or an SRV name cannot be put behind it.
    if (direct.protocol !== 'mongodb:' || direct.host.includes(',')) this.skip();
    const good = await runOnce(
      await world.config(mongoConfigYaml(world.database, IGNORE_DIVIDEND)),
      {
        force: true,
      },
    );
    expect(good.status).to.equal('committed');
    const proxy = await startProxy(Number(direct.port || 27017));
    /** A pool that stalls the proxy as the run starts decoding (the ledger is being read). */
    class StallingPool extends ReconPool {
      override async decode(...args: Parameters<ReconPool['decode']>) {
        proxy.stall();
        return super.decode(...args);
      }
    }
    const pool = new StallingPool(2);
    try {
      const proxied = new URL(direct.href);
      proxied.hostname = '127.0.0.1';
      proxied.port = String(proxy.port);
      // The driver's own deadlines, short for the test: its monitor finds the server silent and
      // fails what is waiting on it (about 70 s with the defaults).
      for (const [k, v] of Object.entries({
        connectTimeoutMS: '1500',
        heartbeatFrequencyMS: '500',
        serverSelectionTimeoutMS: '1500',
      }))
        proxied.searchParams.set(k, v);
      const yaml = mongoConfigYaml(world.database, IGNORE_DIVIDEND).replaceAll(
        '${MONGO_URI}',
        proxied.href,
      );
      const t0 = performance.now();
      const run = await runOnce(await world.config(yaml, 'stalled.config.yaml'), {
        pool,
        force: true,
      });
      expect(performance.now() - t0).to.be.below(45_000);
      expect(run.status).to.equal('failed');
      expect(run.error?.code).to.be.oneOf(['RECON_LEDGER_READ', 'RECON_STORE_WRITE']);
      expect(run.error?.message).to.match(/timed out/);
      expect(await countResults(world.db, good.runId)).to.equal(17);
    } finally {
      await pool.close();
      await proxy.close();
    }
  });

  it('does not touch a recent running run, which may belong to another live process', async () => {
    const loaded = await world.config(mongoConfigYaml(world.database, IGNORE_DIVIDEND));
    const live = 'live-run';
    await world.db
      .collection('reconciliation_runs')
      .insertOne({ _id: live as never, run_id: live, status: 'running', started_at: new Date() });
    const run = await runOnce(loaded, { force: true });
    expect(run.status).to.equal('committed');
    expect(
      (await world.db.collection('reconciliation_runs').findOne({ _id: live as never }))?.status,
    ).to.equal('running');
  });

  it('creates its indexes on first use, including the unique key that makes retried batches harmless', async () => {
    const indexes = await world.db.collection('reconciliation_results').indexes();
    const unique = indexes.find((i) => i.name === 'run_key_unique');
    expect(unique?.unique).to.equal(true);
    expect(unique?.key).to.deep.equal({
      reconciliation_run_id: 1,
      source: 1,
      product_code: 1,
      folio_no: 1,
    });
  });

  it('copes with a previous run of hundreds of thousands of breaks (no argument-spread limits)', async () => {
    const loaded = await world.config(mongoConfigYaml(world.database, IGNORE_DIVIDEND));
    const many = Array.from({ length: 300_000 }, (_, i) => ({
      source: 'CAMS',
      productCode: 'Z9',
      folio: String(i),
      status: 'dbf_only',
      difference: -1,
      firstSeen: '2024-12-23',
      asOf: '2024-12-23',
    }));
    const stub = sinon
      .stub(MongoStore.prototype, 'previousBreaks')
      .callsFake(async (source) => (source === 'CAMS' ? many : []));
    try {
      const run = await runOnce(loaded, { force: true });
      expect(run.status, JSON.stringify(run.error)).to.equal('committed');
      expect(run.breaks?.resolved).to.have.length(300_000);
      const doc = await world.db
        .collection('reconciliation_runs')
        .findOne({ _id: run.runId as never });
      expect(doc?.breaks.resolved_count).to.equal(300_000);
      expect(doc?.breaks.resolved).to.have.length(10_000);
    } finally {
      stub.restore();
    }
  });

  it('reports only the selected source when run with --source, leaving other owners alone', async () => {
    const loaded = await world.config(mongoConfigYaml(world.database, IGNORE_DIVIDEND));
    const run = await runOnce(loaded, { sources: ['karvy'], force: true });
    expect(run.status).to.equal('committed');
    expect(Object.keys(run.sources)).to.deep.equal(['KARVY']);
    const rows = await world.db
      .collection('reconciliation_results')
      .find({ reconciliation_run_id: run.runId })
      .toArray();
    expect(new Set(rows.map((r) => r.source))).to.deep.equal(new Set(['KARVY']));
    expect(rows.filter((r) => r.status === 'mongo_only').map((r) => r.folio_no)).to.deep.equal([
      '55599',
    ]);
  });
});
