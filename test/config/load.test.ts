import { expect } from 'chai';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../config/load.js';
import { rejects } from '../support/rejects.js';
import { withTempDir } from '../support/day.js';

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
  withTempDir('config', (d) => (dir = d), { each: true });

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
});
