import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, parseConfig } from '../../config/load.js';
import { configHash, ledgerRules } from '../../config/loaded.js';
import { DEFAULTS } from '../../config/schema.js';
import { rejects } from '../fixtures/rejects.js';

const MINIMAL = `timezone: Asia/Kolkata
ledger: { type: mongodb, uri: "\${MONGO_URI}", database: banking_demo, collection: wealth_pulse_transactions }
store:  { type: mongodb, uri: "\${MONGO_URI}", database: banking_demo }
reconcile: { tolerance: 0.001 }
sources:
  - { name: CAMS,  plugin: cams,  fetch: { type: local, dir: ./incoming, pattern: "cams*.dbf" } }
  - { name: KARVY, plugin: karvy, fetch: { type: local, dir: ./incoming, pattern: "karvy*.dbf" } }
`;

describe('config loading', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recon-config-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts the minimal file of the issue and fills the environment in', async () => {
    await writeFile(join(dir, 'recon.config.yaml'), MINIMAL);
    const { config, filepath } = await loadConfig({
      cwd: dir,
      env: { MONGO_URI: 'mongodb://127.0.0.1:1/' },
    });
    expect(filepath).to.equal(join(dir, 'recon.config.yaml'));
    expect(config.ledger).to.include({ type: 'mongodb', uri: 'mongodb://127.0.0.1:1/' });
    expect(config.sources.map((s) => s.name)).to.deep.equal(['CAMS', 'KARVY']);
    expect(config.reconcile?.tolerance).to.equal(0.001);
  });

  it('names a missing environment variable and where it is used', async () => {
    await writeFile(join(dir, 'recon.config.yaml'), MINIMAL);
    const err = await rejects(loadConfig({ cwd: dir, env: {} }));
    expect(err.code).to.equal('RECON_CONFIG_ENV_MISSING');
    expect(err.message).to.contain('MONGO_URI').and.to.contain('ledger.uri');
  });

  it('rejects unknown keys, naming them', async () => {
    await writeFile(
      join(dir, 'recon.config.yaml'),
      MINIMAL.replace(
        'reconcile: { tolerance: 0.001 }',
        'reconcile: { tolerance: 0.001, tolerence: 1 }',
      ),
    );
    const err = await rejects(loadConfig({ cwd: dir, env: { MONGO_URI: 'x' } }));
    expect(err.code).to.equal('RECON_CONFIG_INVALID');
    expect(err.message).to.contain('unknown key "tolerence"');
  });

  it('rejects a time zone that is not IANA and a tolerance off the 10^-4 grid', async () => {
    await writeFile(join(dir, 'a.yaml'), MINIMAL.replace('Asia/Kolkata', 'India/Mumbai'));
    expect(
      (await rejects(loadConfig({ path: join(dir, 'a.yaml'), env: { MONGO_URI: 'x' } }))).message,
    ).to.contain('IANA');
    await writeFile(join(dir, 'b.yaml'), MINIMAL.replace('0.001', '0.00001'));
    expect(
      (await rejects(loadConfig({ path: join(dir, 'b.yaml'), env: { MONGO_URI: 'x' } }))).message,
    ).to.contain('at most 4 decimals');
  });

  it('rejects a schedule whose cron pattern or time zone is invalid, before any daemon starts', async () => {
    await writeFile(join(dir, 'a.yaml'), MINIMAL + 'schedule: { cron: "0 30 25 * * *" }\n');
    const bad = await rejects(loadConfig({ path: join(dir, 'a.yaml'), env: { MONGO_URI: 'x' } }));
    expect(bad.code).to.equal('RECON_CONFIG_INVALID');
    expect(bad.message).to.contain('schedule');
    await writeFile(
      join(dir, 'b.yaml'),
      MINIMAL + 'schedule: { cron: "0 30 7 * * *", timezone: India/Mumbai }\n',
    );
    expect(
      (await rejects(loadConfig({ path: join(dir, 'b.yaml'), env: { MONGO_URI: 'x' } }))).message,
    ).to.contain('IANA');
    await writeFile(join(dir, 'c.yaml'), MINIMAL + 'schedule: { cron: "0 30 7 * * *" }\n');
    expect(
      (await loadConfig({ path: join(dir, 'c.yaml'), env: { MONGO_URI: 'x' } })).config.schedule
        ?.timezone,
    ).to.equal('Asia/Kolkata');
  });

  it('says where it looked when there is no config', async () => {
    const err = await rejects(loadConfig({ cwd: dir, env: {} }));
    expect(err.code).to.equal('RECON_CONFIG_NOT_FOUND');
  });

  it('validates the committed recon.config.yaml, which documents every key', async () => {
    const committed = fileURLToPath(new URL('../../../recon.config.yaml', import.meta.url));
    const { config } = await loadConfig({
      path: committed,
      env: { MONGO_URI: 'mongodb://127.0.0.1:1/' },
    });
    expect(config.sources).to.have.length(2);
  });

  it('fills every default in, inside each ledger, store and fetch type too', () => {
    const config = parseConfig(
      {
        ledger: { type: 'mongodb', uri: 'mongodb://h/', database: 'd' },
        store: { type: 'mongodb', uri: 'mongodb://h/', database: 'd' },
        schedule: { cron: '0 30 7 * * *' },
        alerts: { webhook: 'http://127.0.0.1:1/hook' },
        sources: [
          {
            name: 'CAMS',
            plugin: 'cams',
            fetch: {
              type: 'sftp',
              host: 'h',
              username: 'u',
              password: 'p',
              hostFingerprints: [`SHA256:${'A'.repeat(43)}`],
              remoteDir: '/out',
              pattern: 'cams*.dbf',
            },
          },
        ],
      },
      'inline',
      {},
    );
    const { ledger, store, sources, schedule, alerts } = config;
    expect(config.timezone).to.equal('Asia/Kolkata');
    expect(config.reconcile).to.deep.equal({ tolerance: 0.001, materiality: 0 });
    expect(config.pool).to.deep.equal({ rangeRecords: 250_000 });
    expect(config.health).to.deep.equal({ enabled: true, host: '127.0.0.1', port: 9464 });
    expect(schedule).to.deep.include({ timezone: 'Asia/Kolkata', graceSeconds: 300 });
    expect(schedule).to.deep.include({ leaseSeconds: 300, leaseName: 'recon-daily', force: false });
    expect(alerts).to.deep.include({ newBreaksThreshold: 0, timeoutSeconds: 10 });
    expect(ledger).to.deep.include(DEFAULTS.ledger);
    expect(store).to.deep.include(DEFAULTS.store);
    expect(sources[0].recordCount).to.equal('header');
    expect(sources[0].fetch).to.deep.include(DEFAULTS.sftp);
  });

  it('hashes the settings that change results, not how the file spells them', () => {
    const parse = (extra: object, ledger: object = {}) =>
      parseConfig(
        {
          ledger: { type: 'ndjson', path: 'l.ndjson', ...ledger },
          store: { type: 'files', dir: 'out' },
          sources: [
            { name: 'CAMS', plugin: 'cams', fetch: { type: 'local', dir: 'in', pattern: 'c*' } },
          ],
          ...extra,
        },
        'inline',
        {},
      );
    const minimal = parse({});
    // Computed before the defaults moved into the schema: a changed hash would make every file
    // committed earlier look new and be reconciled again.
    expect(configHash(minimal)).to.equal(
      '8ed0a4218083341820a94de8f41d1a805f7be1f2ba9b995ae61f1f86ec7c51db',
    );
    const spelledOut = parse(
      { timezone: 'Asia/Kolkata', reconcile: { materiality: 0, tolerance: 0.001 } },
      { fields: { nav: 'nav', units: 'units' }, typeSigns: { BUY: 1, SELL: -1 }, ignoreTypes: [] },
    );
    expect(configHash(spelledOut)).to.equal(configHash(minimal));
    expect(Object.keys(ledgerRules(spelledOut).fields)).to.deep.equal(
      Object.keys(DEFAULTS.ledger.fields),
    );
    expect(configHash(parse({ reconcile: { tolerance: 0.01 } }))).to.not.equal(configHash(minimal));
    expect(configHash(parse({}, { fields: { units: 'qty' } }))).to.not.equal(configHash(minimal));
  });
});
