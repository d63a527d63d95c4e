/**
 * The loaded config: every default filled in by the schema, and the hash of the settings that
 * change results.
 */
import { expect } from 'chai';
import { parseConfig } from '../../config/load.js';
import { configHash, ledgerRules } from '../../config/loaded.js';
import { DEFAULTS } from '../../config/schema.js';

describe('the loaded config', () => {
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
