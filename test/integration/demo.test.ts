import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const demo = fileURLToPath(new URL('../../scripts/demo.js', import.meta.url));
const cli = fileURLToPath(new URL('../../core/cli.js', import.meta.url));

describe('npm run demo and the CLI on the files store', function () {
  this.timeout(60_000);
  let dir = '';
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes the HTML report and prints its path; report, runs and breaks then read the same files store', async () => {
    const { stdout } = await exec(process.execPath, [demo]);
    const page = /^report: (.+)$/m.exec(stdout)?.[1];
    expect(page, stdout).to.be.a('string');
    dir = /^demo data in (.+)$/m.exec(stdout)![1];
    expect(dirname(page!)).to.equal(join(dir, 'out'));
    const html = await readFile(page!, 'utf8');
    expect(html).to.contain('<input id="search"').and.contain('id="chart"');
    expect(stdout).to.match(/value of breaks: Rs [\d,]+\.\d\d at stake/);
    const config = join(dir, 'recon.config.yaml');
    const runs = JSON.parse(
      (await exec(process.execPath, [cli, 'runs', '--json', '--config', config])).stdout,
    ) as { status: string }[];
    expect(runs.map((r) => r.status)).to.deep.equal(['committed']);
    const breaks = JSON.parse(
      (await exec(process.execPath, [cli, 'breaks', '--json', '--config', config])).stdout,
    ) as { folio_no: string; value: number | null }[];
    expect(breaks.length).to.be.greaterThan(3);
    // Largest value first; breaks without a NAV last.
    const values = breaks.map((b) => b.value);
    const valued = values.filter((v): v is number => v !== null).map(Math.abs);
    expect(valued).to.deep.equal([...valued].sort((a, b) => b - a));
    expect(values.slice(valued.length).every((v) => v === null)).to.equal(true);
    const xlsx = join(dir, 'report.xlsx');
    await exec(process.execPath, [
      cli,
      'report',
      '--format',
      'xlsx',
      '--out',
      xlsx,
      '--config',
      config,
    ]);
    expect(existsSync(xlsx)).to.equal(true);
  });
});
