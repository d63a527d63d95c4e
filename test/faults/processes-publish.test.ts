/**
 * Real `recon run` processes against the real test server: kill -9 while writing and right after
 * the flip, two runs of one day at once, and the database stopped mid-write. Each case checks the
 * exit code, the stored status and what readers see (the latest committed run of the day, whole).
 */
import { expect } from 'chai';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateFile } from '../../fixtures/generate.js';
import { loadConfig } from '../../config/load.js';
import type { RunSummary } from '../../core/store/types.js';
import { startFerret } from '../../fixtures/ferretdb.js';
import { killLeftovers, spawnRecon, type Child } from '../support/cli.js';
import { storedRows, visibleRun } from './readers.js';
import { countResults, testMongoUri } from '../support/database.js';
import { useDay } from '../support/day.js';
import { runOnce } from '../support/run.js';

const AS_OF = '2024-12-24';
const ROWS = 12_000; // about 11,400 keys: one engine write batch of 10,000 and a rest

describe('faults: recon run processes killed, racing, and losing their database', function () {
  this.timeout(240_000);
  const world = useDay('fault_proc');
  before(async () => {
    generateFile(world.path('incoming', 'cams_day.dbf'), 'cams', ROWS);
    await writeFile(world.path('ledger.ndjson'), '');
    await writeConfig(testMongoUri());
  });
  afterEach(killLeftovers);

  async function writeConfig(
    uri: string,
    name = 'recon.config.yaml',
    incoming = './incoming',
  ): Promise<string> {
    await writeFile(
      join(world.dir, name),
      `ledger: { type: ndjson, path: ./ledger.ndjson }
store: { type: mongodb, uri: "${uri}", database: ${world.database}, batchSize: 2000 }
pool: { threads: 1 }
sources:
  - { name: CAMS, plugin: cams, fetch: { type: local, dir: ${incoming}, pattern: "cams*.dbf" } }
`,
    );
    return join(world.dir, name);
  }

  const runInProcess = async (): Promise<RunSummary> =>
    runOnce(await loadConfig({ path: join(world.dir, 'recon.config.yaml') }), { force: true });
  const child = (): Child =>
    spawnRecon(
      [
        'run',
        '--force',
        '--json',
        '--log-level',
        'debug',
        '--config',
        join(world.dir, 'recon.config.yaml'),
      ],
      {},
    );
  const runIdOf = async (c: Child): Promise<string> => {
    await c.waitFor('"msg":"run started"');
    return /"runId":"([^"]+)"[^\n]*"msg":"run started"/.exec(c.output())![1];
  };
  const total = (r: { counts: Record<string, number> }) =>
    Object.values(r.counts).reduce((a, b) => a + b, 0);

  async function expectOneWholeRun(runId?: string): Promise<void> {
    const seen = await visibleRun(world.db, 'CAMS', AS_OF);
    if (runId) expect(seen?.runId).to.equal(runId);
    expect(seen!.rows).to.equal(total(seen!)).and.to.be.greaterThan(10_000);
    expect(await storedRows(world.db, 'CAMS', AS_OF)).to.equal(seen!.rows);
  }

  it('keeps the previous run visible when a run is killed (-9) while writing; a later run marks it failed and removes its rows', async () => {
    const previous = await runInProcess();
    expect(previous.status).to.equal('committed');
    const c = child();
    const killed = await runIdOf(c);
    const results = world.db.collection('reconciliation_results');
    await c.waitFor('"msg":"rows written"'); // the first 10,000 rows of about 11,400
    process.kill(c.pid, 'SIGKILL');
    expect(await c.exited).to.equal(null);
    const written = await results.countDocuments({ reconciliation_run_id: killed });
    expect(written).to.be.greaterThan(0).and.lessThan(ROWS);
    expect(
      (await world.db.collection('reconciliation_runs').findOne({ _id: killed as never }))?.status,
    ).to.equal('running');
    const seen = await visibleRun(world.db, 'CAMS', AS_OF);
    expect(seen?.runId).to.equal(previous.runId);
    expect(seen!.rows).to.equal(total(seen!));
    // Hours later (store.staleAfterMinutes), the next run marks the dead run failed and removes its
    // rows.
    await world.db
      .collection('reconciliation_runs')
      .updateOne(
        { _id: killed as never },
        { $set: { started_at: new Date(Date.now() - 7 * 3600_000) } },
      );
    const next = await runInProcess();
    expect(next.status).to.equal('committed');
    const dead = await world.db.collection('reconciliation_runs').findOne({ _id: killed as never });
    expect([dead?.status, dead?.error?.code, dead?.rows_removed]).to.deep.equal([
      'failed',
      'RECON_ABANDONED',
      true,
    ]);
    expect(await results.countDocuments({ reconciliation_run_id: killed })).to.equal(0);
    await expectOneWholeRun(next.runId);
  });

  it('keeps a run killed (-9) right after its flip committed and whole; the next run finishes its cleanup', async () => {
    const c = child();
    const runId = await runIdOf(c);
    await c.waitFor('"msg":"run committed"');
    process.kill(c.pid, 'SIGKILL');
    await c.exited;
    const doc = await world.db.collection('reconciliation_runs').findOne({ _id: runId as never });
    expect(doc?.status).to.equal('committed');
    const seen = await visibleRun(world.db, 'CAMS', AS_OF);
    expect(seen?.runId).to.equal(runId);
    expect(seen!.rows).to.equal(total(seen!));
    const next = await runInProcess();
    expect(next.status).to.equal('committed');
    expect(
      (await world.db.collection('reconciliation_runs').findOne({ _id: runId as never }))
        ?.cleanup_pending,
    ).to.equal(undefined);
    await expectOneWholeRun(next.runId);
  });

  for (const round of [1]) {
    it(`resolves two recon run processes on one day at once (round ${round}): truthful exits, one whole run visible, no stray rows`, async () => {
      const both = [child(), child()];
      const ids = await Promise.all(both.map(runIdOf));
      const codes = await Promise.all(both.map((c) => c.exited));
      const docs = await Promise.all(
        ids.map((id) => world.db.collection('reconciliation_runs').findOne({ _id: id as never })),
      );
      for (const [i, code] of codes.entries()) {
        const out = both[i].output();
        if (code === 0) {
          expect(docs[i]?.status, out).to.equal('committed');
        } else {
          expect(code, out).to.equal(4);
          expect(docs[i]?.status).to.equal('failed');
          expect(docs[i]?.error?.code).to.equal('RECON_SUPERSEDED');
          expect(out).to.match(/recon: RECON_SUPERSEDED: /);
          expect(await countResults(world.db, ids[i])).to.equal(0);
        }
      }
      expect(codes).to.include(0);
      const later =
        docs[0]!.started_at > docs[1]!.started_at ||
        (docs[0]!.started_at.getTime() === docs[1]!.started_at.getTime() && ids[0] > ids[1])
          ? 0
          : 1;
      expect(codes[later]).to.equal(0);
      await expectOneWholeRun(ids[later]);
    });
  }

  it('fails with RECON_STORE_WRITE (exit 4) within seconds when the database stops mid-write', async () => {
    const ferret = await startFerret();
    let stopped = false;
    try {
      const uri = `${ferret.uri.replace(/\/$/, '')}/?serverSelectionTimeoutMS=1500`;
      // Four engine write batches: the database stops after the first.
      await mkdir(join(world.dir, 'big'), { recursive: true });
      generateFile(join(world.dir, 'big', 'cams_big.dbf'), 'cams', 42_000);
      const config = await writeConfig(uri, 'private.yaml', './big');
      const c = spawnRecon(['run', '--force', '--log-level', 'debug', '--config', config], {});
      await c.waitFor('"msg":"rows written"');
      const t0 = Date.now();
      await ferret.stop();
      stopped = true;
      const code = await c.exited;
      expect(code, c.output()).to.equal(4);
      expect(c.output()).to.match(
        /\nrecon: RECON_STORE_WRITE: result store: write results failed[^\n]+\n$/,
      );
      expect(c.output()).to.not.contain('"msg":"run committed"');
      expect(Date.now() - t0).to.be.lessThan(15_000);
    } finally {
      if (!stopped) await ferret.stop();
    }
  });
});
