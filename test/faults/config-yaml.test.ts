/** A YAML syntax error: the README promises one line first, then the parser's excerpt. */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cli } from '../support/cli.js';
import { tempDir } from '../support/day.js';

describe('faults: a YAML syntax error in the config', () => {
  it('prints one line naming the file, line, column and reason, then the excerpt, and exits 2', async () => {
    const dir = await tempDir('fault-yaml');
    try {
      await writeFile(
        join(dir, 'bad.yaml'),
        'ledger: { type: ndjson, path: x\nstore: [\n  - a: b\n',
      );
      const child = spawn(
        process.execPath,
        [cli, 'validate-config', '--config', join(dir, 'bad.yaml')],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let err = '';
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
      });
      expect(await new Promise((r) => child.once('exit', r))).to.equal(2);
      const lines = err.trimEnd().split('\n');
      expect(
        lines[0].startsWith(
          `recon: RECON_CONFIG_INVALID: YAML syntax error in ${join(dir, 'bad.yaml')} line 2, column 1: `,
        ),
        lines[0],
      ).to.equal(true);
      expect(lines[0]).to.match(/column 1: \S.+$/);
      expect(lines.slice(1).join('\n')).to.contain(' 2 | store: [').and.contain('^');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
