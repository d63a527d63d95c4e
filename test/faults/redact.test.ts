/**
 * Passwords with `@ / : %` in a MongoDB URI: redacted in the parser's way, or down to the host list
 * when the string cannot be parsed; and kept out of the error line of a real `recon run`.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { ReconError } from '../../core/errors.js';
import { createLogger } from '../../core/logger.js';
import { redactUri } from '../../core/redact.js';
import { freePort } from '../../fixtures/free-port.js';
import { tempDir } from '../support/day.js';

const cli = fileURLToPath(new URL('../../core/cli.js', import.meta.url));
const PASSWORDS = [
  'Walrus@Pw-Tern-7781',
  'Walrus/Pw-Tern-7781',
  'Walrus:Pw-Tern-7781',
  'Walrus%Pw-Tern-7781',
  'W@l/r:u%s@Pw-Tern-7781',
];

describe('faults: credentials in connection strings', function () {
  this.timeout(60_000);

  for (const password of PASSWORDS) {
    it(`removes the password ${JSON.stringify(password)} whether written raw or percent-encoded`, () => {
      for (const written of [password, encodeURIComponent(password)]) {
        const uri = `mongodb://rtuser:${written}@db1.example:27017,db2.example:27018/recon?authSource=admin`;
        const out = redactUri(`cannot connect to MongoDB at ${uri}: timed out`);
        expect(out).to.not.contain('Pw-Tern-7781');
        expect(out).to.not.contain('Walrus');
        expect(out).to.not.contain('rtuser');
        expect(out).to.contain('db1.example:27017');
        expect(out).to.match(
          /^cannot connect to MongoDB at mongodb:\/\/\*\*\*@db1\.example:27017,db2\.example:27018\S* timed out$/,
        );
      }
    });
  }

  it('keeps a parsed URI whole but for its credentials, and leaves URIs without credentials alone', () => {
    expect(redactUri('at mongodb://u:p%40ss@h1:1,h2:2/db?authSource=admin now')).to.equal(
      'at mongodb://***@h1:1,h2:2/db?authSource=admin now',
    );
    expect(redactUri('at mongodb+srv://u:p@cluster0.example.net/db')).to.equal(
      'at mongodb+srv://***@cluster0.example.net/db',
    );
    expect(redactUri('at mongodb://h1:1/db and https://example.com/x')).to.equal(
      'at mongodb://h1:1/db and https://example.com/x',
    );
    expect(redactUri('hook https://bot:t@k/en@hooks.example/x failed')).to.equal(
      'hook https://***@hooks.example failed',
    );
  });

  it('scrubs URIs inside logged objects and serialised errors', () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'info',
      destination: new Writable({
        write(c: Buffer, _e, cb) {
          lines.push(c.toString());
          cb();
        },
      }),
    });
    const uri = 'mongodb://rtuser:Walrus@Pw-Tern-7781@db.example:27017/x';
    logger.error({ err: new Error(`failed at ${uri}`), detail: { text: uri } }, 'store failed');
    expect(lines.join('')).to.not.contain('Pw-Tern');
    expect(new ReconError('RECON_STORE_WRITE', `failed at ${uri}`).toJSON().message).to.equal(
      'failed at mongodb://***@db.example:27017',
    );
  });

  it('prints no part of the password in the error line of a real recon run whose database is unreachable', async () => {
    const dir = await tempDir('fault-redact');
    try {
      const port = await freePort();
      for (const password of PASSWORDS) {
        const uri = `mongodb://rtuser:${password}@127.0.0.1:${port}/recon?serverSelectionTimeoutMS=300`;
        await writeFile(
          join(dir, 'recon.config.yaml'),
          `ledger: { type: mongodb, uri: "\${MONGO_URI}", database: recon }
store: { type: mongodb, uri: "\${MONGO_URI}", database: recon }
sources:
  - { name: CAMS, plugin: cams, fetch: { type: local, dir: ./in, pattern: "*.dbf" } }
`,
        );
        const child = spawn(
          process.execPath,
          [cli, 'run', '--config', join(dir, 'recon.config.yaml')],
          { env: { ...process.env, MONGO_URI: uri }, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let out = '';
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
        });
        child.stderr!.on('data', (d: Buffer) => {
          out += d.toString();
        });
        const code = await new Promise<number | null>((r) => child.once('exit', r));
        expect(code, out).to.equal(4);
        expect(out).to.match(/recon: RECON_(STORE_WRITE|LEDGER_READ): /);
        expect(out, out).to.not.contain('Pw-Tern');
        expect(out, out).to.not.contain('Walrus');
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
