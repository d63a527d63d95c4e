import { expect } from 'chai';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoadedConfig } from '../../config/load.js';
import { Lease, type LeaseDoc } from '../../core/lease.js';
import { Daemon } from '../../core/daemon.js';
import type { RunSummary } from '../../core/store/types.js';
import { generateFile } from '../../fixtures/generate.js';
import { spawnRecon, type Child } from '../support/cli.js';
import { IGNORE_DIVIDEND, mongoStores } from '../support/config.js';
import { countResults, mongoEnv } from '../support/database.js';
import { useDay } from '../support/day.js';
import { quietLogger, runOnce } from '../support/run.js';

function config(database: string, incoming: string, extra = ''): string {
  return `${mongoStores(database, IGNORE_DIVIDEND)}health: { port: 0 }
sources:
  - { name: CAMS, plugin: cams, fetch: { type: local, dir: ${incoming}, pattern: "cams*.dbf" } }
${extra}`;
}

describe('daemon: schedule, lease, health and shutdown', function () {
  this.timeout(120_000);
  const world = useDay('daemon', { each: true, scenario: true });

  function load(extra: string, name?: string): Promise<LoadedConfig> {
    return world.config(config(world.database, './incoming', extra), name);
  }

  it('makes exactly one run when two daemons fire on the same tick', async () => {
    const loaded = await load('schedule: { cron: "0 0 5 * * *", force: true }');
    const a = new Daemon(loaded, quietLogger);
    const b = new Daemon(loaded, quietLogger);
    try {
      const [ra, rb] = await Promise.all([a.tick(), b.tick()]);
      expect([ra, rb].filter((r) => r !== null)).to.have.length(1);
      expect((ra ?? rb)!.status).to.equal('committed');
      expect(await world.db.collection('reconciliation_runs').countDocuments({})).to.equal(1);
    } finally {
      await a.stop(0);
      await b.stop(0);
    }
  });

  it('runs one scheduled tick once, even when a lagging daemon fires it after the first finished', async () => {
    const loaded = await load('schedule: { cron: "0 30 7 * * *", force: true }');
    const a = new Daemon(loaded, quietLogger);
    const b = new Daemon(loaded, quietLogger);
    const tick = new Date('2024-12-25T02:00:00Z');
    try {
      expect((await a.tick(tick))?.status).to.equal('committed');
      expect(await b.tick(tick)).to.equal(null);
      expect((await b.tick(new Date('2024-12-26T02:00:00Z')))?.status).to.equal('committed');
      expect(await world.db.collection('reconciliation_runs').countDocuments({})).to.equal(2);
    } finally {
      await a.stop(0);
      await b.stop(0);
    }
  });

  it('makes exactly one run when two started daemons reach the same croner tick', async () => {
    const at = new Date(Math.floor(Date.now() / 1000) * 1000 + 3000);
    const cron = `${at.getUTCSeconds()} ${at.getUTCMinutes()} ${at.getUTCHours()} ${at.getUTCDate()} ${at.getUTCMonth() + 1} *`;
    const loaded = await load(`schedule: { cron: "${cron}", timezone: UTC, force: true }`);
    const daemons = [new Daemon(loaded, quietLogger), new Daemon(loaded, quietLogger)];
    try {
      await Promise.all(daemons.map((d) => d.start()));
      const runs = world.db.collection('reconciliation_runs');
      for (let i = 0; i < 100 && (await runs.countDocuments({ status: 'committed' })) === 0; i++)
        await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 1000));
      expect(await runs.countDocuments({})).to.equal(1);
      expect(await runs.countDocuments({ status: 'committed' })).to.equal(1);
      const done = await world.db
        .collection<LeaseDoc>('recon_leases')
        .find({ name: 'recon-daily', job: at.toISOString(), done: true })
        .toArray();
      expect(done).to.have.length(1);
    } finally {
      for (const d of daemons) await d.stop(30_000);
    }
  });

  it('lets another daemon take over once a lease expires, with a higher fencing token', async () => {
    const loaded = await load('schedule: { cron: "0 0 5 * * *", leaseSeconds: 1, force: true }');
    const col = async () => world.db.collection<LeaseDoc>('recon_leases');
    const crashed = new Lease(col, 'recon-daily', 1000);
    const first = await crashed.acquire();
    expect(first).to.not.equal(null);
    const b = new Daemon(loaded, quietLogger);
    try {
      expect(await b.tick()).to.equal(null);
      await new Promise((r) => setTimeout(r, 1200));
      const run = await b.tick();
      expect(run?.status).to.equal('committed');
      const lease = (
        await (await col()).find({ name: 'recon-daily' }).sort({ token: -1 }).limit(1).toArray()
      )[0];
      expect(lease?.token).to.be.greaterThan(first!.token);
      expect(lease?.holder).to.equal(b.lease!.holder);
    } finally {
      await b.stop(0);
    }
  });

  it('refuses to publish with a stale fencing token', async () => {
    const loaded = await load('');
    const col = async () => world.db.collection<LeaseDoc>('recon_leases');
    const stale = new Lease(col, 'recon-daily', 500);
    await stale.acquire();
    await new Promise((r) => setTimeout(r, 700));
    const fresh = new Lease(col, 'recon-daily', 60_000);
    expect(await fresh.acquire()).to.not.equal(null);
    const run = await runOnce(loaded, { force: true, beforeCommit: (id) => stale.fence(id) });
    expect(run.status).to.equal('failed');
    expect(run.error?.code).to.equal('RECON_LEASE_LOST');
    expect(await countResults(world.db, run.runId)).to.equal(0);
    const ok = await runOnce(loaded, { force: true, beforeCommit: (id) => fresh.fence(id) });
    expect(ok.status).to.equal('committed');
  });

  it('refuses to publish when less than a third of the lease time is left', async () => {
    const col = async () => world.db.collection<LeaseDoc>('recon_leases');
    let skewMs = 0;
    const lease = new Lease(col, 'recon-daily', 60_000, () => new Date(Date.now() + skewMs));
    expect(await lease.acquire()).to.not.equal(null);
    await lease.fence('run-a');
    skewMs = 45_000;
    const err = await lease.fence('run-b').then(
      () => null,
      (e: unknown) => e as { code: string },
    );
    expect(err?.code).to.equal('RECON_LEASE_LOST');
  });

  it("keeps the newer run's results when a stalled older run reaches its commit after it, and does not publish the older", async () => {
    const loaded = await load('');
    let newer = null as RunSummary | null;
    // The older run passes its fence, then stalls while another daemon runs and publishes.
    const older = await runOnce(loaded, {
      force: true,
      beforeCommit: async () => {
        newer = await runOnce(loaded, { force: true });
      },
    });
    expect(newer!.status).to.equal('committed');
    expect(older.status).to.equal('failed');
    expect(older.error?.code).to.equal('RECON_SUPERSEDED');
    const results = world.db.collection('reconciliation_results');
    expect(await results.countDocuments({ reconciliation_run_id: newer!.runId })).to.be.greaterThan(
      0,
    );
    const latest = await world.db
      .collection('reconciliation_runs')
      .find({ status: 'committed' })
      .sort({ started_at: -1 })
      .limit(1)
      .next();
    expect(latest?._id).to.equal(newer!.runId);
  });

  it('runs on its croner schedule and reports through /healthz and /metrics', async () => {
    const loaded = await load('schedule: { cron: "* * * * * *", force: true }');
    const d = new Daemon(loaded, quietLogger);
    await d.start();
    try {
      type Health = {
        status: string;
        lastRun: { id: string; status: string } | null;
        nextRun: string | null;
      };
      let health = null as Health | null;
      for (let i = 0; i < 100 && !health?.lastRun; i++) {
        await new Promise((r) => setTimeout(r, 100));
        health = (await (await fetch(`http://127.0.0.1:${d.healthPort}/healthz`)).json()) as Health;
      }
      expect(health?.status).to.equal('ok');
      expect(health?.lastRun?.status).to.equal('committed');
      expect(Date.parse(health!.nextRun!)).to.be.greaterThan(Date.now() - 1000);
      const metrics = await (await fetch(`http://127.0.0.1:${d.healthPort}/metrics`)).text();
      expect(metrics).to.contain('recon_last_run_status{status="committed"} 1');
      expect(metrics).to.match(/recon_source_results\{source="CAMS",status="matched"\} 6/);
      expect(metrics).to.match(/recon_last_run_duration_seconds \d/);
      expect(metrics).to.match(/recon_source_rows\{source="CAMS"\} [1-9]/);
      expect(metrics).to.match(/recon_source_breaks\{source="CAMS"\} [1-9]/);
      expect(metrics).to.match(/recon_source_decode_seconds\{source="CAMS"\} \d/);
    } finally {
      expect((await d.stop(30_000)).abandoned).to.equal(false);
    }
  });

  function startChild(configPath: string): Child {
    return spawnRecon(['daemon', '--config', configPath, '--log-level', 'info'], mongoEnv());
  }

  /** A daemon on a CAMS file of `rows` rows that starts a run every second. */
  async function startOnBigFile(rows: number, graceSeconds: number): Promise<Child> {
    await mkdir(world.path('big'));
    generateFile(world.path('big', 'cams_big.dbf'), 'cams', rows);
    await world.config(
      config(
        world.database,
        './big',
        `schedule: { cron: "* * * * * *", graceSeconds: ${graceSeconds} }`,
      ),
      'daemon.yaml',
    );
    const child = startChild(world.path('daemon.yaml'));
    await child.waitFor('"msg":"run started"');
    child.kill();
    return child;
  }

  it('exits 0 on SIGTERM when idle', async () => {
    await load('schedule: { cron: "0 0 5 1 1 *" }');
    const child = startChild(join(world.dir, 'recon.config.yaml'));
    await child.waitFor('daemon scheduled');
    child.kill();
    expect(await child.exited).to.equal(0);
    expect(child.output()).to.contain('daemon stopped');
  });

  it('lets the current run finish on SIGTERM within the grace period, publishes it and exits 0', async () => {
    const child = await startOnBigFile(5_000, 60);
    expect(await child.exited, child.output()).to.equal(0);
    const runs = await world.db.collection('reconciliation_runs').find({}).toArray();
    expect(runs.map((r) => r.status)).to.deep.equal(['committed']);
    expect(await countResults(world.db, runs[0]._id)).to.be.greaterThan(0);
    expect(child.output()).to.contain('waiting for the current run');
    expect(child.output()).to.not.contain('abandoning the current run');
  });

  it('abandons a run on SIGTERM after the grace period: marked failed, previous results still visible', async () => {
    const loaded = await load('');
    const previous = await runOnce(loaded, { force: true });
    expect(previous.status).to.equal('committed');
    const visible = await countResults(world.db, previous.runId);
    expect(visible).to.be.greaterThan(0);
    const child = await startOnBigFile(300_000, 0);
    expect(await child.exited).to.equal(4);
    const runs = await world.db
      .collection('reconciliation_runs')
      .find({ _id: { $ne: previous.runId as never } })
      .toArray();
    expect(runs).to.have.length(1);
    expect(runs[0].status).to.equal('failed');
    expect(runs[0].error.code).to.equal('RECON_ABANDONED');
    expect(await countResults(world.db, runs[0]._id)).to.equal(0);
    expect(await countResults(world.db, previous.runId)).to.equal(visible);
    expect(child.output()).to.contain('abandoning the current run');
  });
});

describe('the nominal time of a scheduled tick', () => {
  it('names the tick being run even when the timer fires exactly on the second', async () => {
    const { Cron } = await import('croner');
    const { nominalTick } = await import('../../core/daemon.js');
    const daily = new Cron('0 30 7 * * *', { timezone: 'Asia/Kolkata', paused: true });
    const tick = new Date('2026-11-24T02:00:00.000Z'); // 07:30:00 IST
    for (const ms of [0, 1, 7, 450])
      expect(
        nominalTick(daily, new Date(tick.getTime() + ms))?.toISOString(),
        `+${ms} ms`,
      ).to.equal(tick.toISOString());
    const yearly = new Cron('26 36 10 24 11 *', { timezone: 'UTC', paused: true });
    expect(nominalTick(yearly, new Date('2026-11-24T10:36:26.000Z'))?.toISOString()).to.equal(
      '2026-11-24T10:36:26.000Z',
    );
  });
});
