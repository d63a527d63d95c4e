/**
 * A stalled SFTP server: the test's own sshd session process is stopped (SIGSTOP) a megabyte into a
 * download. The fetch must end in RECON_SFTP within its deadlines, `recon run` must exit 4, and a
 * daemon given SIGTERM must exit within its grace period plus a small bound.
 */
import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fetchSftp } from '../../core/fetch/sftp.js';
import { sftpOptions, startSshd, type RunningSshd } from '../setup/sshd.js';
import { descendants, pidByCommandLine, signalAll, waitForPartial } from './processes.js';
import { killLeftovers, spawnRecon, type Child } from '../support/cli.js';
import { mongoStores } from '../support/config.js';
import { testMongoUri, uniqueDbName } from '../support/database.js';
import { tempDir } from '../support/day.js';
import { quietLogger } from '../support/run.js';

/** Deadlines long enough that only a signal ends a stalled fetch. */
const PATIENT = 'connectTimeoutSeconds: 30, operationTimeoutSeconds: 120, retries: 3';

describe('faults: a stalled SFTP server', function () {
  this.timeout(60_000);
  let sshd: RunningSshd;
  let work: string;
  let stopped: number[] = [];

  before(async () => {
    sshd = await startSshd();
    work = await tempDir('fault-sftp');
    const big = Buffer.alloc(64 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big[i] = i & 0xff;
    await writeFile(join(sshd.remoteDir, 'cams_huge.dbf'), big);
  });
  afterEach(() => {
    killLeftovers();
    signalAll(stopped, 'SIGCONT');
    stopped = [];
  });
  after(async () => {
    await sshd?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  /**
   * Stops every session process of our sshd (not its listener) once a megabyte has arrived in
   * staging.
   */
  async function stallSessionsDuringDownload(staging: string): Promise<void> {
    await waitForPartial(staging, '.part', 1024 * 1024);
    const listener = pidByCommandLine(join(sshd.dir, 'sshd_config'));
    stopped = descendants(listener);
    expect(stopped.length).to.be.greaterThan(0);
    signalAll(stopped, 'SIGSTOP');
  }

  it('ends a download stalled mid-transfer with RECON_SFTP within connect + operation deadlines, leaving no partial file', async () => {
    const staging = join(work, 'direct');
    const t0 = Date.now();
    const fetching = fetchSftp(
      sftpOptions(sshd, { stagingDir: staging, connectTimeoutMs: 2000, operationTimeoutMs: 1000 }),
      quietLogger,
    ).then(
      () => null,
      (e: unknown) => e as { code: string; message: string },
    );
    await stallSessionsDuringDownload(staging);
    const err = await fetching;
    const ms = Date.now() - t0;
    expect(err?.code, err?.message).to.equal('RECON_SFTP');
    expect(err?.message).to.match(/no data for 1000 ms/);
    expect(ms).to.be.lessThan(2000 + 1000 + 2000 + 2000);
    expect(readdirSync(staging).filter((n) => n.endsWith('.part'))).to.deep.equal([]);
  });

  it('downloads a 249-character remote name under a short staged name, keeping the original name', async () => {
    const long = `long_${'y'.repeat(240)}.dbf`;
    await writeFile(join(sshd.remoteDir, long), Buffer.from('long-named file'));
    try {
      const files = await fetchSftp(
        sftpOptions(sshd, { pattern: 'long_*.dbf', stagingDir: join(work, 'long') }),
        quietLogger,
      );
      expect(files.map((f) => f.name)).to.deep.equal([long]);
      expect(basename(files[0].path).length).to.be.lessThan(80);
      expect(readdirSync(join(work, 'long'))).to.deep.equal([basename(files[0].path)]);
    } finally {
      await rm(join(sshd.remoteDir, long));
    }
  });

  it('refuses remote names with a newline or a terminal escape', async () => {
    for (const bad of ['bad_\n.dbf', 'bad_\u001b[2J.dbf']) {
      await writeFile(join(sshd.remoteDir, bad), Buffer.from('x'));
      try {
        const err = await fetchSftp(
          sftpOptions(sshd, { pattern: 'bad_*.dbf', stagingDir: join(work, 'ctl') }),
          quietLogger,
        ).then(
          () => null,
          (e: unknown) => e as { code: string; message: string },
        );
        expect(err?.code).to.equal('RECON_FETCH_UNSAFE_NAME');
        expect(err?.message).to.contain(JSON.stringify(bad));
        expect(err?.message.includes('\n') || err?.message.includes('\u001b')).to.equal(false);
      } finally {
        await rm(join(sshd.remoteDir, bad));
      }
    }
  });

  /**
   * Starts `recon <command>` on a config (in folder `name` of the work dir, a fresh database named
   * after `dbPrefix`) whose CAMS source fetches from the test sshd into `staging`.
   */
  async function startRecon(
    command: 'run' | 'daemon',
    name: string,
    dbPrefix: string,
    fetchExtra: string,
    extra = '',
  ): Promise<{ child: Child; staging: string }> {
    const dir = join(work, name);
    await mkdir(dir, { recursive: true });
    const staging = join(dir, 'staging');
    await writeFile(
      join(dir, 'recon.config.yaml'),
      `${mongoStores(uniqueDbName(dbPrefix))}health: { port: 0 }
sources:
  - name: CAMS
    plugin: cams
    fetch: { type: sftp, host: ${sshd.host}, port: ${sshd.port}, username: ${sshd.user}, password: "\${SFTP_PASSWORD}", hostFingerprints: ["${sshd.hostFingerprint}"], remoteDir: ${sshd.remoteDir}, pattern: "cams*.dbf", stagingDir: ${staging}, ${fetchExtra} }
${extra}`,
    );
    const child = spawnRecon([command, '--config', join(dir, 'recon.config.yaml')], {
      MONGO_URI: testMongoUri(),
      SFTP_PASSWORD: sshd.password,
    });
    return { child, staging };
  }

  /** SIGTERM to `child` once its download stalls: its exit code and how long it took to exit. */
  async function terminateDuringStall(
    child: Child,
    staging: string,
  ): Promise<{ code: number | null; ms: number }> {
    await stallSessionsDuringDownload(staging);
    const t0 = Date.now();
    process.kill(child.pid, 'SIGTERM');
    const code = await child.exited;
    return { code, ms: Date.now() - t0 };
  }

  it('makes recon run exit 4 with RECON_SFTP when the server stalls mid-transfer', async () => {
    const t0 = Date.now();
    const { child, staging } = await startRecon(
      'run',
      'run',
      'fault_sftp',
      'connectTimeoutSeconds: 2, operationTimeoutSeconds: 1, retries: 0',
    );
    await stallSessionsDuringDownload(staging);
    const code = await Promise.race([
      child.exited,
      new Promise((r) => setTimeout(() => r('still running'), 15_000)),
    ]);
    if (code === 'still running') process.kill(child.pid, 'SIGKILL');
    expect(code, child.output()).to.equal(4);
    expect(child.output()).to.match(/recon: RECON_SFTP: /);
    expect(Date.now() - t0).to.be.lessThan(15_000);
    expect(readdirSync(staging), 'staging removed after the failed run').to.deep.equal([]);
  });

  it('makes recon run given SIGTERM during a stalled fetch exit 4 at once, the run abandoned', async () => {
    const { child, staging } = await startRecon('run', 'run-term', 'fault_sftpt', PATIENT);
    const { code, ms } = await terminateDuringStall(child, staging);
    expect(code, child.output()).to.equal(4);
    expect(ms).to.be.lessThan(5000);
    expect(child.output()).to.match(/recon: RECON_ABANDONED: /);
  });

  it('lets a daemon given SIGTERM during a stalled fetch exit within its grace period plus a small bound, the run abandoned', async () => {
    const { child, staging } = await startRecon(
      'daemon',
      'daemon',
      'fault_sftpd',
      PATIENT,
      'schedule: { cron: "* * * * * *", graceSeconds: 1 }',
    );
    const { code, ms } = await terminateDuringStall(child, staging);
    expect(code, child.output()).to.equal(4);
    expect(ms).to.be.lessThan(1000 + 5000);
    expect(child.output()).to.contain('abandoning the current run');
    expect(child.output()).to.contain('RECON_ABANDONED');
  });
});
