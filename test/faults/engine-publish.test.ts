/**
 * The engine's exit status against what readers see, on the real test server: cleanup failing after
 * the flip, and two runs of one day at once (the later-started one wins, never a mix, never empty).
 */
import { expect } from 'chai';
import sinon from 'sinon';
import { MongoStore } from '../../core/store/mongodb.js';
import type { RunSummary } from '../../core/store/types.js';
import { storedRows, visibleRun } from './readers.js';
import { IGNORE_DIVIDEND, mongoConfigYaml } from '../support/config.js';
import { useDay } from '../support/day.js';
import { runOnce } from '../support/run.js';
import { countResults } from '../support/database.js';

describe('faults: the engine tells the truth about publishing', function () {
  this.timeout(120_000);
  const world = useDay('fault_engine', { scenario: true });
  afterEach(() => sinon.restore());

  async function rowsOf(run: RunSummary, source: string): Promise<number> {
    return world.db
      .collection('reconciliation_results')
      .countDocuments({ reconciliation_run_id: run.runId, source });
  }

  it('keeps a run committed (exit 0) when removing the rows it supersedes fails, and the next run finishes the cleanup', async () => {
    const loaded = await world.config(mongoConfigYaml(world.database, IGNORE_DIVIDEND));
    const first = await runOnce(loaded, { force: true });
    expect(first.status).to.equal('committed');
    const stub = sinon
      .stub(MongoStore.prototype, 'supersede')
      .rejects(new Error('too many SQL variables'));
    const second = await runOnce(loaded, { force: true });
    stub.restore();
    expect(second.status, JSON.stringify(second.error)).to.equal('committed');
    expect(second.error).to.equal(null);
    const doc = await world.db
      .collection('reconciliation_runs')
      .findOne({ _id: second.runId as never });
    expect(doc?.status).to.equal('committed');
    expect(doc?.cleanup_pending).to.equal(true);
    const asOf = second.sources.CAMS.asOf!;
    expect(await rowsOf(second, 'CAMS')).to.equal(
      Object.values(second.sources.CAMS.counts).reduce((a, b) => a + b, 0),
    );
    expect((await visibleRun(world.db, 'CAMS', asOf))?.runId).to.equal(second.runId);
    const third = await runOnce(loaded, { force: true, sources: ['KARVY'] });
    expect(third.status).to.equal('committed');
    expect(await rowsOf(first, 'CAMS')).to.equal(0);
    expect(await storedRows(world.db, 'CAMS', asOf)).to.equal(await rowsOf(second, 'CAMS'));
    expect(
      (await world.db.collection('reconciliation_runs').findOne({ _id: second.runId as never }))
        ?.cleanup_pending,
    ).to.equal(undefined);
  });

  it('resolves two runs of one day at once: the later one publishes, the earlier one is superseded and leaves no rows', async () => {
    const loaded = await world.config(mongoConfigYaml(world.database, IGNORE_DIVIDEND));
    let later: RunSummary | null = null;
    let earlierId: string | null = null;
    const original = MongoStore.prototype.writeRows;
    // The earlier run stalls at its first write while the later one runs whole, cleanup included.
    sinon.stub(MongoStore.prototype, 'writeRows').callsFake(async function (
      this: MongoStore,
      run,
      rows,
    ) {
      if (earlierId === null) {
        earlierId = run.runId;
        later = await runOnce(loaded, { force: true });
      }
      return original.call(this, run, rows);
    });
    const earlier = await runOnce(loaded, { force: true });
    expect(later!.status).to.equal('committed');
    expect(earlier.status).to.equal('failed');
    expect(earlier.error?.code).to.equal('RECON_SUPERSEDED');
    expect(
      (await world.db.collection('reconciliation_runs').findOne({ _id: earlier.runId as never }))
        ?.status,
    ).to.equal('failed');
    for (const source of ['CAMS', 'KARVY']) {
      const asOf = later!.sources[source].asOf!;
      const seen = await visibleRun(world.db, source, asOf);
      expect(seen?.runId).to.equal(later!.runId);
      expect(await storedRows(world.db, source, asOf)).to.equal(seen!.rows);
      expect(seen!.rows).to.be.greaterThan(0);
    }
    expect(await countResults(world.db, earlier.runId)).to.equal(0);
  });
});
