/**
 * Starts a real FerretDB 1.24.2 (SQLite backend) on a free loopback port for the tests, building it
 * with Go on first use (test/services/ferretdb pins the version in go.mod/go.sum). When MONGO_URI
 * is
 * set the tests use that server instead and nothing is started.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBinary } from './binaries.js';
import { freePort } from './free-port.js';

const here = dirname(fileURLToPath(import.meta.url));
/** test/services/ferretdb in the source tree (this file runs from dist/test/setup). */
const moduleDir = resolve(here, '../../../test/services/ferretdb');

export interface RunningFerret {
  uri: string;
  stop(): Promise<void>;
}

export function ferretBinary(): string {
  const sum = createHash('sha256')
    .update(readFileSync(join(moduleDir, 'go.sum')))
    .update(readFileSync(join(moduleDir, 'main.go')))
    .digest('hex')
    .slice(0, 12);
  const cacheDir = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'brokerage-recon');
  const bin = join(cacheDir, `ferretdb-test-${sum}`);
  if (!existsSync(bin)) {
    mkdirSync(cacheDir, { recursive: true });
    const go = findGo();
    process.stderr.write(`building FerretDB 1.24.2 test server with ${go} (first run only)...\n`);
    execFileSync(go, ['build', '-o', bin, '.'], {
      cwd: moduleDir,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, CGO_ENABLED: '0' },
    });
  }
  return bin;
}

/** $GO, else go on PATH, else the official tarball's /usr/local/go/bin (often not on PATH). */
function findGo(): string {
  return findBinary('go', 'GO', ['/usr/local/go/bin']);
}

export async function startFerret(): Promise<RunningFerret> {
  const bin = ferretBinary();
  const dir = mkdtempSync(join(tmpdir(), 'recon-ferret-'));
  const port = await freePort();
  const child: ChildProcess = spawn(
    bin,
    [`--listen-addr=127.0.0.1:${port}`, `--sqlite-url=file:${dir}/`, '--log-level=error'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const uri = await new Promise<string>((resolveUri, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`FerretDB did not start in 30 s: ${stderr}`)),
      30_000,
    );
    child.stdout!.on('data', (d: Buffer) => {
      const line = d.toString().trim();
      if (line.startsWith('mongodb://')) {
        clearTimeout(timer);
        resolveUri(line);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`FerretDB exited with ${code}: ${stderr}`));
    });
  });
  return {
    uri,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
