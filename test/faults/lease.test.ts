/**
 * Two daemons, one tick: the lease must hold on FerretDB 1.24, whose findOneAndUpdate is not
 * atomic. In process: many racing acquisitions of one expired lease, exactly one wins each time.
 * With real processes: two `recon daemon` on one database, a tick every 2 s; every tick runs once,
 * and the standby logs who holds the lease and stays healthy.
 */
import { expect } from 'chai';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Lease, type LeaseDoc } from '../../core/lease.js';
import { writeScenario } from '../../fixtures/scenario.js';
import { killLeftovers, spawnRecon } from '../support/cli.js';
import { testMongoUri } from '../support/database.js';
import { useDay } from '../support/day.js';
import { IGNORE_DIVIDEND, mongoStores } from '../support/config.js';

describe('faults: two daemons, one lease', function () {
  this.timeout(90_000);
  afterEach(killLeftovers);
  const world = useDay('fault_lease', { each: true });

  it('gives an expired lease to exactly one of eight racing daemons, twenty times over', async () => {
    const col = async () => world.db.collection<LeaseDoc>('recon_leases');
    const winners: number[] = [];
    let refusalsNameTheWinner = true;
    for (let round = 0; round < 20; round++) {
      const racers = Array.from({ length: 8 }, () => new Lease(col, 'recon-daily', 60_000));
      const won = (await Promise.all(racers.map((l) => l.acquire(`job-${round}`)))).filter(
        (h) => h !== null,
      );
      winners.push(won.length);
      const losers = racers.filter((l) => l.current === null);
      refusalsNameTheWinner &&= losers.every(
        (l) => l.refusal?.reason === 'held' && l.refusal.holder === won[0]?.holder,
      );
      for (const l of racers) await l.release({ finished: false });
    }
    expect(winners).to.deep.equal(Array(20).fill(1));
    expect(refusalsNameTheWinner).to.equal(true);
  });

  it('runs every tick once with two real daemons on one database; the standby stays healthy and names the holder', async () => {
    const s = await writeScenario(world.path('incoming'), { decimal128: false });
    await world.seed(s.transactions);
    const daemons = [0, 1].map((i) => {
      const path = join(world.dir, `d${i}.yaml`);
      return {
        path,
        yaml: `${mongoStores(world.database, IGNORE_DIVIDEND)}health: { port: 0 }
schedule: { cron: "*/2 * * * * *", timezone: UTC, force: true, leaseSeconds: 30, graceSeconds: 10 }
sources:
  - { name: CAMS, plugin: cams, fetch: { type: local, dir: ./incoming, pattern: "cams*.dbf" } }
`,
      };
    });
    for (const d of daemons) await writeFile(d.path, d.yaml);
    const children = daemons.map((d) =>
      spawnRecon(['daemon', '--config', d.path, '--log-level', 'info'], {
        MONGO_URI: testMongoUri(),
      }),
    );
    try {
      const runs = world.db.collection('reconciliation_runs');
      for (let i = 0; i < 150 && (await runs.countDocuments({ status: 'committed' })) < 4; i++)
        await new Promise((r) => setTimeout(r, 100));
      for (const c of children) {
        const port = /"port":(\d+)[^\n]*"msg":"health endpoint listening"/.exec(c.output())?.[1];
        const health = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as {
          status: string;
        };
        expect(health.status).to.equal('ok');
      }
    } finally {
      for (const c of children) process.kill(c.pid, 'SIGTERM');
    }
    const codes = await Promise.all(children.map((c) => c.exited));
    expect(codes).to.deep.equal([0, 0]);
    const runs = await world.db.collection('reconciliation_runs').find({}).toArray();
    expect(runs.length).to.be.at.least(4);
    expect(
      runs.filter((r) => r.status !== 'committed').map((r) => [r.status, r.error?.code]),
    ).to.deep.equal([]);
    const leases = await world.db
      .collection<LeaseDoc>('recon_leases')
      .find({ name: 'recon-daily' })
      .toArray();
    const jobs = leases.map((l) => l.job);
    expect(new Set(jobs).size, JSON.stringify(jobs)).to.equal(jobs.length);
    expect(leases.length).to.equal(runs.length);
    const logs = children.map((c) => c.output()).join('');
    expect(logs).to.not.contain('RECON_LEASE_LOST');
    expect(logs).to.match(
      /"holder":"[^"]+:\d+:[0-9a-f]{8}".*"msg":"(lease held by another daemon|job already done by a daemon); not running"/,
    );
  });
});
