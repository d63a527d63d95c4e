/**
 * The built `recon` command as a user meets it: stdout, stderr and exit status of each convention.
 * Terminal behaviour runs under a real pseudo-terminal (util-linux `script`), with stdout sent to a
 * file so the terminal shows stderr only.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBinary } from '../../fixtures/binaries.js';
import { cli, recon } from '../support/cli.js';
import { useDay } from '../support/day.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Runs the built CLI with stderr on a pseudo-terminal; stdout goes to a file. `terminal` is what
 * the terminal received.
 */
function reconOnTerminal(
  args: string[],
  dir: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; terminal: string; stdout: string }> {
  const script = findBinary('script', 'RECON_TEST_SCRIPT');
  const out = join(dir, `stdout-${Math.random().toString(36).slice(2)}.txt`);
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, cli, ...args].map(quote).join(' ') + ` > ${quote(out)}`;
  const fullEnv: NodeJS.ProcessEnv = {
    ...process.env,
    TERM: 'xterm',
    COLUMNS: '120',
    LINES: '40',
    ...env,
  };
  for (const k of ['NO_COLOR', 'FORCE_COLOR']) if (!(k in env)) delete fullEnv[k];
  return new Promise((resolve) => {
    execFile(
      script,
      ['-q', '-e', '-c', command, '/dev/null'],
      { cwd: dir, env: fullEnv, timeout: 60_000 },
      (err, terminal) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : -1
          : 0;
        resolve({
          code,
          terminal: terminal.replace(/\r\n/g, '\n'),
          stdout: readFileSync(out, 'utf8'),
        });
      },
    );
  });
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/**
 * What each terminal line finally shows: a small emulation of what cli-progress and the logger send
 * (carriage return, cursor to column, erase in line/display, save/restore cursor); colours dropped.
 */
function visibleLines(terminal: string): string[] {
  return terminal
    .split('\n')
    .map((line) => {
      let cells: string[] = [];
      let col = 0;
      let saved = 0;
      for (let i = 0; i < line.length; i++) {
        const ch = line[i];
        if (ch === '\r') {
          col = 0;
          continue;
        }
        if (ch === '\x1b') {
          if (line[i + 1] === '7') {
            saved = col;
            i++;
            continue;
          }
          if (line[i + 1] === '8') {
            col = saved;
            i++;
            continue;
          }
          const m = /^\[([0-9;?]*)([A-Za-z])/.exec(line.slice(i + 1));
          if (m) {
            const n = m[1] === '' ? 0 : Number(m[1].replace('?', ''));
            if (m[2] === 'G') col = Math.max(0, n - 1);
            else if (m[2] === 'K' && n === 2) cells = [];
            else if (m[2] === 'K' || m[2] === 'J') cells = cells.slice(0, col);
            i += m[0].length;
          }
          continue;
        }
        cells[col++] = ch;
      }
      return Array.from(cells, (c) => c ?? ' ').join('');
    })
    .filter((l) => l.trim() !== '');
}

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };

describe('recon CLI conventions (the built command)', function () {
  this.timeout(120_000);
  const world = useDay('cli-conventions', { offline: true, scenario: true });

  before(async () => {
    await mkdir(join(world.dir, 'empty'));
    const config = (incoming: string) => `timezone: Asia/Kolkata
ledger: { type: ndjson, path: ./ledger.ndjson, ignoreTypes: [DIVIDEND] }
store: { type: files, dir: ./out }
sources:
  - { name: CAMS,  plugin: cams,  fetch: { type: local, dir: ./${incoming}, pattern: "cams*.dbf" } }
  - { name: KARVY, plugin: karvy, fetch: { type: local, dir: ./${incoming}, pattern: "karvy*.dbf" } }
`;
    await writeFile(join(world.dir, 'ok.yaml'), config('incoming'));
    await writeFile(join(world.dir, 'nofiles.yaml'), config('empty'));
  });
  it('with no arguments prints the help on stderr and exits 2', async () => {
    const r = await recon([]);
    expect(r.code).to.equal(2);
    expect(r.stdout).to.equal('');
    expect(r.stderr)
      .to.match(/^Usage: recon \[options\] \[command\]/)
      .and.contain('healthcheck');
  });

  it('prints its version with --version and -V', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await recon([flag]);
      expect(r).to.deep.equal({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
    }
  });

  it('refuses numeric options that are not numbers, or out of range, before touching any store', async () => {
    for (const [args, text] of [
      [['runs', '-n', 'NaN'], `argument 'NaN' is invalid. expected a whole number of at least 1`],
      [['runs', '--limit', '0'], `argument '0' is invalid. expected a whole number of at least 1`],
      [['runs', '-n', '2.5'], `argument '2.5' is invalid`],
      [
        ['breaks', '--min-age', 'abc'],
        `argument 'abc' is invalid. expected a number of at least 0`,
      ],
      [['breaks', '--min-age', '-1'], `argument '-1' is invalid`],
      [['healthcheck', '--timeout', '0'], `argument '0' is invalid`],
    ] as const) {
      const r = await recon([...args, '--config', join(world.dir, 'does-not-exist.yaml')]);
      expect(r.code, args.join(' ')).to.equal(2);
      expect(r.stdout).to.equal('');
      expect(r.stderr.split('\n')[0]).to.contain('error: option').and.contain(text);
    }
  });

  it('off a terminal: JSON log lines on stderr, the summary on stdout, and the failure as the last stderr line', async () => {
    const ok = await recon(['run', '--config', join(world.dir, 'ok.yaml')]);
    expect(ok.code, ok.stderr).to.equal(0);
    expect(ok.stdout).to.contain('CAMS').and.contain('KARVY');
    const lines = ok.stderr.trim().split('\n');
    expect(lines.length).to.be.greaterThan(1);
    for (const l of lines) expect(() => JSON.parse(l), l).to.not.throw();
    expect(ok.stderr).to.not.match(ANSI);
    const failed = await recon(['run', '--config', join(world.dir, 'nofiles.yaml')], {
      env: { FORCE_COLOR: '1' },
    });
    expect(failed.code).to.equal(3);
    const errLines = failed.stderr.trim().split('\n');
    expect(errLines.at(-1)).to.match(/^recon: RECON_NO_FILES: /);
    for (const l of errLines.slice(0, -1)) expect(() => JSON.parse(l), l).to.not.throw();
  });

  it('on a terminal at the default level: a failure shows only the one-line error', async () => {
    const r = await reconOnTerminal(
      ['run', '--config', join(world.dir, 'nofiles.yaml')],
      world.dir,
    );
    expect(r.code).to.equal(3);
    const shown = visibleLines(r.terminal);
    expect(shown).to.have.length(1);
    expect(shown[0]).to.match(/^recon: RECON_NO_FILES: .*CAMS/);
    expect(r.terminal).to.not.contain('{"level"');
  });

  it('on a terminal with --log-level: readable, coloured log lines, all before the summary and never inside the progress bar', async () => {
    const r = await reconOnTerminal(
      ['run', '--config', join(world.dir, 'ok.yaml'), '--force', '--log-level', 'debug'],
      world.dir,
    );
    expect(r.code, r.terminal).to.equal(0);
    expect(r.terminal).to.match(ANSI);
    const shown = visibleLines(r.terminal);
    expect(shown.some((l) => /\bINFO\b/.test(l))).to.equal(true);
    expect(shown.filter((l) => l.startsWith('{'))).to.deep.equal([]);
    for (const l of shown)
      expect(l.includes('decode [') && /\b(INFO|DEBUG)\b/.test(l), l).to.equal(false);
    expect(r.stdout).to.contain('CAMS');
  });

  it('honours NO_COLOR and FORCE_COLOR=0 on a terminal', async () => {
    for (const env of [
      { NO_COLOR: '1' },
      { FORCE_COLOR: '0' },
      { NO_COLOR: '1', FORCE_COLOR: '1' },
    ]) {
      const r = await reconOnTerminal(
        ['run', '--config', join(world.dir, 'ok.yaml'), '--force', '--log-level', 'info'],
        world.dir,
        env,
      );
      expect(r.code, JSON.stringify(env)).to.equal(0);
      /* eslint-disable no-control-regex */
      const logs = r.terminal
        .replace(/\x1b\[\?25[hl]/g, '')
        .replace(/\r\x1b\[2K/g, '')
        .replace(/\x1b\[[0-9]*[GK]/g, '');
      /* eslint-enable no-control-regex */
      expect(logs, JSON.stringify(env))
        .to.contain('INFO')
        .and.not.match(/\x1b\[[0-9;]*m/); // eslint-disable-line no-control-regex
    }
  });

  it('keeps the summary on stdout and only on stdout', async () => {
    const r = await reconOnTerminal(
      ['run', '--config', join(world.dir, 'ok.yaml'), '--force'],
      world.dir,
    );
    expect(r.code).to.equal(0);
    expect(r.stdout).to.contain('CAMS');
    expect(visibleLines(r.terminal)).to.deep.equal([]);
  });
});
