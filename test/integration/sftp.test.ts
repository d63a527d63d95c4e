import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Uint8ArrayReader, Uint8ArrayWriter, ZipWriter } from '@zip.js/zip.js';
import sinon from 'sinon';
import { loadConfig } from '../../config/load.js';
import { ReconError } from '../../core/errors.js';
import { fetchSftp, type SftpOptions } from '../../core/fetch/sftp.js';
import { safeStagingPath } from '../../core/fetch/names.js';
import { createLogger } from '../../core/logger.js';
import { sftpOptions, startSshd, SFTP_USER, type RunningSshd } from '../setup/sshd.js';
import { startProxy } from '../setup/tcp-proxy.js';
import { IGNORE_DIVIDEND, mongoConfigYaml } from '../support/config.js';
import { closeTestClient, testMongoUri, uniqueDbName } from '../support/database.js';
import { tempDir, useDay } from '../support/day.js';
import { runOnce } from '../support/run.js';

/** Every log line of these tests, at debug level, to search for secrets afterwards. */
const captured: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _e, cb) {
    captured.push(chunk.toString());
    cb();
  },
});
const logger = createLogger({ level: 'debug', destination: sink });

async function rejection(p: Promise<unknown>): Promise<ReconError> {
  try {
    await p;
  } catch (err) {
    return err as ReconError;
  }
  throw new Error('expected a rejection');
}

async function zipOf(name: string, content: Buffer, password: string): Promise<Buffer> {
  const writer = new ZipWriter(new Uint8ArrayWriter(), { password, zipCrypto: true });
  await writer.add(name, new Uint8ArrayReader(new Uint8Array(content)));
  return Buffer.from(await writer.close());
}

describe('SFTP delivery against a real OpenSSH sshd', function () {
  this.timeout(120_000);
  let sshd: RunningSshd;
  let work: string;
  let bigSha: string;
  let bigSize: number;

  before(async () => {
    sshd = await startSshd();
    work = await tempDir('sftp');
    const big = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    bigSha = createHash('sha256').update(big).digest('hex');
    bigSize = big.length;
    await put('cams_big.dbf', big);
    await put('other.txt', Buffer.from('not matched'));
  });

  after(async () => {
    await sshd?.stop();
    if (work) await rm(work, { recursive: true, force: true });
    await closeTestClient();
  });

  async function put(name: string, content: Buffer): Promise<void> {
    await writeFile(join(sshd.remoteDir, name), content);
  }

  function options(over: Partial<SftpOptions> = {}): SftpOptions {
    return sftpOptions(sshd, {
      stagingDir: join(work, `staging-${Math.random().toString(36).slice(2)}`),
      backoffMs: 50,
      ...over,
    });
  }

  it('downloads matching files by password into staging, size checked and sha256 recorded', async () => {
    const o = options();
    const files = await fetchSftp(o, logger);
    expect(files.map((f) => f.name)).to.deep.equal(['cams_big.dbf']);
    expect(files[0]).to.include({
      size: bigSize,
      sha256: bigSha,
      path: join(o.stagingDir, 'cams_big.dbf'),
    });
    expect(
      createHash('sha256')
        .update(await readFile(files[0].path))
        .digest('hex'),
    ).to.equal(bigSha);
    expect(readdirSync(o.stagingDir)).to.deep.equal(['cams_big.dbf']);
  });

  it('downloads by private key with a passphrase', async () => {
    const files = await fetchSftp(
      options({
        password: undefined,
        privateKeyPath: sshd.keyPath,
        passphrase: sshd.keyPassphrase,
      }),
      logger,
    );
    expect(files[0].sha256).to.equal(bigSha);
  });

  it('refuses a host whose key matches no pinned fingerprint, before authenticating, naming host and fingerprint, without retrying', async () => {
    const before = captured.length;
    const err = await rejection(
      fetchSftp(options({ hostFingerprints: ['SHA256:' + 'A'.repeat(43)], retries: 3 }), logger),
    );
    expect(err.code).to.equal('RECON_SFTP_HOSTKEY');
    expect(err.message).to.contain(`127.0.0.1:${sshd.port}`).and.contain(sshd.hostFingerprint);
    expect(captured.slice(before).join('')).to.not.contain('retrying');
  });

  it('refuses a config with no host fingerprints', async () => {
    await writeFile(
      join(work, 'nofp.yaml'),
      `ledger: { type: ndjson, path: ./l.ndjson }
store: { type: files, dir: ./out }
sources:
  - { name: CAMS, plugin: cams, fetch: { type: sftp, host: 127.0.0.1, username: u, password: p, hostFingerprints: [], remoteDir: /x, pattern: "*.dbf" } }
`,
    );
    const err = await rejection(loadConfig({ path: join(work, 'nofp.yaml'), env: {} }));
    expect(err.code).to.equal('RECON_CONFIG_INVALID');
    expect(err.message).to.contain('hostFingerprints');
  });

  it('fails on a wrong password with an authentication error, without retrying', async () => {
    const before = captured.length;
    const err = await rejection(
      fetchSftp(options({ password: 'wrong-password-123', retries: 3 }), logger),
    );
    expect(err.code).to.equal('RECON_SFTP_AUTH');
    expect(err.message).to.contain(SFTP_USER);
    expect(captured.slice(before).join('')).to.not.contain('retrying');
  });

  it('never uses a half-downloaded file when the connection is cut, and a later retry succeeds', async () => {
    const proxy = await startProxy(sshd.port, { cutAfterBytes: 1024 * 1024, cutConnections: 1 });
    try {
      const o = options({ port: proxy.port });
      const err = await rejection(fetchSftp(o, logger));
      expect(err.code).to.equal('RECON_SFTP');
      expect(readdirSync(o.stagingDir)).to.deep.equal([]);
      const files = await fetchSftp(o, logger);
      expect(files[0].sha256).to.equal(bigSha);
      expect(readdirSync(o.stagingDir)).to.deep.equal(['cams_big.dbf']);
    } finally {
      await proxy.close();
    }
  });

  it('writes nothing to stdout or the console when a connection is cut (recon run --json stays parseable)', async () => {
    const proxy = await startProxy(sshd.port, { cutAfterBytes: 256 * 1024, cutConnections: 1 });
    const consoleLog = sinon.spy(console, 'log');
    const consoleError = sinon.spy(console, 'error');
    try {
      await rejection(fetchSftp(options({ port: proxy.port }), logger));
      await new Promise((r) => setTimeout(r, 200));
      expect(consoleLog.args.concat(consoleError.args).map(String)).to.deep.equal([]);
    } finally {
      consoleLog.restore();
      consoleError.restore();
      await proxy.close();
    }
  });

  it('retries a transient cut by itself with backoff', async () => {
    const proxy = await startProxy(sshd.port, { cutAfterBytes: 512 * 1024, cutConnections: 1 });
    try {
      const files = await fetchSftp(options({ port: proxy.port, retries: 2 }), logger);
      expect(files[0].sha256).to.equal(bigSha);
      expect(proxy.connections).to.equal(2);
    } finally {
      await proxy.close();
    }
  });

  it('refuses remote names that could escape staging', async () => {
    for (const bad of ['../cams.dbf', 'a/b.dbf', '..', 'cams..dbf', '.hidden.dbf', 'x\0.dbf']) {
      expect(() => safeStagingPath(work, bad, 'CAMS'), bad).to.throw(/refusing/);
    }
    await put('cams..evil.dbf', Buffer.from('x'));
    try {
      const err = await rejection(fetchSftp(options(), logger));
      expect(err.code).to.equal('RECON_FETCH_UNSAFE_NAME');
      expect(err.message).to.contain('cams..evil.dbf');
    } finally {
      await rm(join(sshd.remoteDir, 'cams..evil.dbf'));
    }
  });

  describe('zip delivery', () => {
    const world = useDay('zip', { folder: 'zip-incoming', scenario: true });
    before(async () => {
      const s = world.scenario;
      const incoming = world.path('zip-incoming');
      await writeFile(
        join(incoming, 'cams_20241224.zip'),
        await zipOf('CAMS_20241224.DBF', await readFile(s.camsFile), 'ARN-12345'),
      );
      await rm(s.camsFile);
      expect(await readFile(join(incoming, 'cams_20241224.zip'))).to.have.length.greaterThan(100);
    });
    async function runWith(password: string) {
      const yaml = mongoConfigYaml(
        world.database,
        IGNORE_DIVIDEND,
        `  - { name: CAMS,  plugin: cams,  fetch: { type: local, dir: ./zip-incoming, pattern: "cams*.zip", zipPassword: "${password}", stagingDir: ./zip-staging } }
  - { name: KARVY, plugin: karvy, fetch: { type: local, dir: ./zip-incoming, pattern: "karvy*.dbf" } }`,
      );
      await writeFile(world.path('zip.yaml'), yaml);
      const loaded = await loadConfig({
        path: world.path('zip.yaml'),
        env: { MONGO_URI: testMongoUri() },
      });
      return runOnce(loaded, { logger, force: true });
    }

    it('opens a password-protected zip with the configured password and reconciles its DBF', async () => {
      const run = await runWith('ARN-12345');
      expect(run.status, JSON.stringify(run.error)).to.equal('committed');
      expect(run.sources.CAMS.files.map((f) => f.name)).to.deep.equal([
        'cams_20241224__CAMS_20241224.DBF',
      ]);
      expect(run.counts).to.deep.equal({ matched: 9, mismatched: 2, dbf_only: 3, mongo_only: 3 });
    });

    it('fails clearly on a wrong zip password', async () => {
      const run = await runWith('not-the-arn');
      expect(run.status).to.equal('failed');
      expect(run.error?.code).to.equal('RECON_ZIP_PASSWORD');
      expect(run.error?.message).to.contain('cams_20241224.zip').and.not.contain('not-the-arn');
    });
  });

  it('keeps a credentialed MongoDB URI out of every log line and error', async () => {
    const withCreds = testMongoUri().replace('mongodb://', 'mongodb://recon:s3cr3t-mongo-pw@');
    await writeFile(
      join(work, 'creds.yaml'),
      mongoConfigYaml(
        uniqueDbName('creds'),
        IGNORE_DIVIDEND,
        `  - { name: CAMS, plugin: cams, fetch: { type: local, dir: ./nowhere, pattern: "cams*.dbf" } }`,
      ),
    );
    const loaded = await loadConfig({
      path: join(work, 'creds.yaml'),
      env: { ...process.env, MONGO_URI: withCreds },
    });
    logger.debug({ config: loaded.config }, 'config loaded');
    const outcome = await runOnce(loaded, { logger, force: true }).then(
      (r) => JSON.stringify(r.error),
      (e: Error) => e.message,
    );
    expect(outcome).to.not.contain('s3cr3t-mongo-pw');
    expect(captured.join('')).to.contain('config loaded');
  });

  describe('recon run with both sources over SFTP', () => {
    const world = useDay('sftprun', { scenario: true });
    before(async () => {
      const s = world.scenario;
      for (const f of [s.camsFile, s.karvyFile]) {
        const name = f.split('/').pop()!;
        await copyFile(f, join(sshd.remoteDir, name));
      }
    });
    /** A run's stored rows, without the fields that differ from run to run. */
    function rowsOf(runId: string) {
      return world.db
        .collection('reconciliation_results')
        .find(
          { reconciliation_run_id: runId },
          { projection: { _id: 0, reconciliation_run_id: 0, reconciliation_date: 0 } },
        )
        .sort({ source: 1, product_code: 1, folio_no: 1 })
        .toArray();
    }

    it('stores the same results as the local-folder run of the same files, and logs no secret', async () => {
      process.env.RECON_TEST_SFTP_PASSWORD = sshd.password;
      process.env.RECON_TEST_KEY_PASSPHRASE = sshd.keyPassphrase;
      const sftpSources = `  - { name: CAMS,  plugin: cams,  fetch: { type: sftp, host: 127.0.0.1, port: ${sshd.port}, username: ${sshd.user}, password: "\${RECON_TEST_SFTP_PASSWORD}", hostFingerprints: ["${sshd.hostFingerprint}"], remoteDir: "${sshd.remoteDir}", pattern: "cams_2024*.dbf", stagingDir: ./st-cams } }
  - { name: KARVY, plugin: karvy, fetch: { type: sftp, host: 127.0.0.1, port: ${sshd.port}, username: ${sshd.user}, privateKeyPath: "${sshd.keyPath}", passphrase: "\${RECON_TEST_KEY_PASSPHRASE}", hostFingerprints: ["${sshd.hostFingerprint}"], remoteDir: "${sshd.remoteDir}", pattern: "karvy*.dbf", stagingDir: ./st-karvy } }`;
      const sftpLoaded = await world.config(
        mongoConfigYaml(world.database, IGNORE_DIVIDEND, sftpSources),
        'sftp.yaml',
      );
      const localLoaded = await world.config(
        mongoConfigYaml(world.database, IGNORE_DIVIDEND),
        'local.yaml',
      );
      const viaSftp = await runOnce(sftpLoaded, { logger, force: true });
      expect(viaSftp.status, JSON.stringify(viaSftp.error)).to.equal('committed');
      const sftpRows = await rowsOf(viaSftp.runId);
      const viaLocal = await runOnce(localLoaded, { logger, force: true });
      expect(viaLocal.status).to.equal('committed');
      const localRows = await rowsOf(viaLocal.runId);
      expect(sftpRows).to.have.length(17);
      expect(sftpRows).to.deep.equal(localRows);
      expect(viaSftp.sources.KARVY.files[0].sha256).to.equal(
        viaLocal.sources.KARVY.files[0].sha256,
      );
      // Every log line of this file's tests, at debug level: no password, passphrase, key or
      // credentialed URI.
      const logs = captured.join('');
      expect(logs.length).to.be.greaterThan(1000);
      expect(logs).to.contain('sftp file downloaded');
      expect(logs).to.not.contain(sshd.password);
      expect(logs).to.not.contain(sshd.keyPassphrase);
      expect(logs).to.not.contain('s3cr3t-mongo-pw');
      expect(logs).to.not.contain('ARN-12345');
      expect(logs).to.not.contain('PRIVATE KEY');
      expect(logs).to.not.contain((await readFile(sshd.keyPath, 'utf8')).split('\n')[1]);
      expect(logs).to.not.match(/[a-z]+:\/\/[^/\s"]+:[^@\s"]+@/i);
    });
  });
});
