/**
 * Config that explains itself, through the built CLI: stdout, stderr and exit status of
 * `recon validate-config` and `recon healthcheck`, and the JSON Schema file editors use.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configSchemaDocument, SCHEMA_FILE } from '../../config/schema-document.js';
import { freePort } from '../../fixtures/free-port.js';
import { cli, recon } from '../support/cli.js';
import { CAMS_SOURCE, OFFLINE_STORES } from '../support/config.js';
import { useDay } from '../support/day.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

const BASE = `timezone: Asia/Kolkata
${OFFLINE_STORES}sources:
${CAMS_SOURCE}
`;

describe('config that explains itself (the built CLI)', function () {
  this.timeout(120_000);
  const world = useDay('cli-config', { offline: true, folder: false });

  async function validate(yaml: string, ...extra: string[]) {
    const path = join(world.dir, `c-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(path, yaml);
    return {
      path,
      ...(await recon(['validate-config', '--config', path, ...extra], {
        env: { MONGO_URI: 'mongodb://127.0.0.1:1/' },
      })),
    };
  }

  it("names a wrong ledger or store type and the allowed ones, without the other types' keys", async () => {
    const ledger = await validate(
      BASE.replace(
        'ledger: { type: ndjson, path: ./ledger.ndjson }',
        'ledger: { type: mongo, uri: "${MONGO_URI}", database: d }',
      ),
    );
    expect(ledger.code).to.equal(2);
    expect(ledger.stdout).to.equal('');
    expect(ledger.stderr).to.equal(
      `recon: RECON_CONFIG_INVALID: ${ledger.path}: ledger.type: "mongo" is not one of mongodb, ndjson (did you mean "mongodb"?)\n`,
    );
    const store = await validate(
      BASE.replace('store: { type: files, dir: ./out }', 'store: { type: file, dir: ./out }'),
    );
    expect(store.code).to.equal(2);
    expect(store.stderr).to.equal(
      `recon: RECON_CONFIG_INVALID: ${store.path}: store.type: "file" is not one of mongodb, files (did you mean "files"?)\n`,
    );
  });

  it('suggests the key that was meant for a misspelt one, at any depth', async () => {
    const r = await validate(
      BASE.replace('timezone:', 'timezon:').replace(
        'type: files, dir: ./out',
        'type: files, dri: ./out, dir: ./out',
      ),
    );
    expect(r.code).to.equal(2);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.equal(
      `recon: RECON_CONFIG_INVALID: ${r.path}: (top level): unknown key "timezon" (did you mean "timezone"?); store: unknown key "dri" (did you mean "dir"?)\n`,
    );
  });

  it('names the timezone key when the zone is misspelt', async () => {
    const r = await validate(BASE.replace('Asia/Kolkata', 'Asia/Kolkatta'));
    expect(r.code).to.equal(2);
    expect(r.stderr).to.equal(
      `recon: RECON_CONFIG_INVALID: ${r.path}: timezone: "Asia/Kolkatta" is not an IANA time zone (e.g. Asia/Kolkata)\n`,
    );
  });

  it('loads every plugin, and lists the built-in ones when a name is unknown', async () => {
    const r = await validate(BASE.replace('plugin: cams', 'plugin: camz'));
    expect(r.code).to.equal(2);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.equal(
      `recon: RECON_PLUGIN_INVALID: ${r.path}: sources.CAMS.plugin: plugin camz is neither a built-in plugin (cams, karvy) nor an installed package; a module path starts with ./ or /\n`,
    );
    const broken = join(world.dir, 'broken-plugin.js');
    await writeFile(broken, 'export default { name: "broken" };\n');
    const invalid = await validate(BASE.replace('plugin: cams', `plugin: ${broken}`));
    expect(invalid.code).to.equal(2);
    expect(invalid.stderr).to.match(
      /^recon: RECON_PLUGIN_INVALID: .*sources\.CAMS\.plugin: plugin .*broken-plugin\.js is invalid: /,
    );
  });

  it('says whether the daemon can run the config, and fails on it with --daemon', async () => {
    const runOnly = await validate(BASE);
    expect(runOnly.code).to.equal(0);
    expect(runOnly.stderr).to.equal('');
    expect(runOnly.stdout).to.equal(
      `config ok: ${runOnly.path} (1 sources: CAMS)\nplugins ok: CAMS: cams\ndaemon: cannot run this config: no schedule (add schedule: { cron: "0 30 7 * * *" }); \`recon run\` works without one\n`,
    );
    const strict = await validate(BASE, '--daemon');
    expect(strict.code).to.equal(2);
    expect(strict.stderr).to.equal(
      `recon: RECON_CONFIG_INVALID: ${strict.path}: no schedule (add schedule: { cron: "0 30 7 * * *" }); \`recon run\` works without one\n`,
    );
    const daemon = await validate(`${BASE}schedule: { cron: "0 30 7 * * *" }\n`, '--daemon');
    expect(daemon.code).to.equal(0);
    expect(daemon.stdout.split('\n')[2]).to.equal(
      'daemon: ready (schedule "0 30 7 * * *" Asia/Kolkata; health on 127.0.0.1:9464; files store: no lease, run a single daemon)',
    );
  });

  it('passes the shipped recon.config.yaml, daemon included', async () => {
    const r = await recon(
      ['validate-config', '--daemon', '--config', join(root, 'recon.config.yaml')],
      { env: { MONGO_URI: 'mongodb://127.0.0.1:1/' } },
    );
    expect(r.stderr).to.equal('');
    expect(r.code).to.equal(0);
    expect(r.stdout).to.contain(
      'plugins ok: CAMS: cams, KARVY: karvy\ndaemon: ready (schedule "0 30 7 * * *" Asia/Kolkata; health on 127.0.0.1:9464; MongoDB lease)',
    );
  });

  it('ships the JSON Schema as a file, current with config/schema.ts, named by the modeline of recon.config.yaml', () => {
    const shipped = readFileSync(join(root, SCHEMA_FILE), 'utf8');
    expect(
      shipped === configSchemaDocument(),
      `${SCHEMA_FILE} is out of date: run npm run schema`,
    ).to.equal(true);
    const firstLine = readFileSync(join(root, 'recon.config.yaml'), 'utf8').split('\n')[0];
    expect(firstLine).to.equal(`# yaml-language-server: $schema=./${SCHEMA_FILE}`);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
      files: string[];
    };
    expect(pkg.exports['./config/schema.json']).to.equal(`./${SCHEMA_FILE}`);
    expect(pkg.files).to.include(SCHEMA_FILE);
  });

  it('gives plugin authors the plugin types through the package exports', async () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      exports: Record<string, { types: string; default: string }>;
    };
    const entry = pkg.exports['./core/plugin.js'];
    expect(readFileSync(join(root, entry.types), 'utf8')).to.contain(
      'export interface SourcePlugin',
    );
    // Self-reference by package name resolves through `exports`, as a plugin package's import
    // would.
    const mod = (await import('brokerage-recon/core/plugin.js')) as {
      validatePlugin: unknown;
      BUILT_IN_PLUGINS: string[];
    };
    expect(mod.validatePlugin).to.be.a('function');
    expect(mod.BUILT_IN_PLUGINS).to.deep.equal(['cams', 'karvy']);
  });

  describe('recon healthcheck', () => {
    it('exits 0 while the daemon of the config answers /healthz, and 1 with one line once it has stopped', async () => {
      const port = await freePort();
      const path = join(world.dir, 'daemon.yaml');
      await writeFile(
        path,
        `${BASE}schedule: { cron: "0 0 0 1 1 *", graceSeconds: 1 }\nhealth: { host: 0.0.0.0, port: ${port} }\n`,
      );
      const daemon = spawn(
        process.execPath,
        [cli, 'daemon', '--config', path, '--log-level', 'silent'],
        { stdio: 'ignore' },
      );
      try {
        let r = await recon(['healthcheck', '--config', path]);
        for (let i = 0; i < 100 && r.code !== 0; i++) {
          await new Promise((res) => setTimeout(res, 100));
          r = await recon(['healthcheck', '--config', path, '--timeout', '2']);
        }
        expect(r.code, r.stderr).to.equal(0);
        expect(r.stderr).to.equal('');
        expect(r.stdout).to.match(
          new RegExp(`^health: http://127\\.0\\.0\\.1:${port}/healthz: \\{"status":"ok"`),
        );
      } finally {
        const exited = new Promise((res) => daemon.once('exit', res));
        daemon.kill('SIGTERM');
        await exited;
      }
      const down = await recon(['healthcheck', '--config', path, '--timeout', '2']);
      expect(down.code).to.equal(1);
      expect(down.stdout).to.equal('');
      expect(down.stderr.split('\n')).to.have.length(2);
      expect(down.stderr).to.match(
        new RegExp(`^recon: unhealthy: http://127\\.0\\.0\\.1:${port}/healthz: `),
      );
    });

    it('exits 0 without a request when the endpoint is disabled, and 1 (never 2) on a bad config', async () => {
      const off = join(world.dir, 'off.yaml');
      await writeFile(off, `${BASE}health: { enabled: false }\n`);
      expect(await recon(['healthcheck', '--config', off])).to.deep.equal({
        code: 0,
        stdout: 'health: the endpoint is disabled (health.enabled: false); nothing to check\n',
        stderr: '',
      });
      const bad = await recon(['healthcheck', '--config', join(world.dir, 'missing.yaml')]);
      expect(bad.code).to.equal(1);
      expect(bad.stderr).to.match(/^recon: unhealthy: RECON_CONFIG_NOT_FOUND: /);
    });
  });
});
