/** Helpers for the fault suite's real processes: find what a test started, stop and resume it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const cli = fileURLToPath(new URL('../../core/cli.js', import.meta.url));

/** Children (recursively) of a process, read from /proc. */
export function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(join('/proc', name, 'stat'), 'utf8');
      parentOf.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // the process ended while we looked
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of parentOf)
      if (parent === p) {
        out.push(child);
        walk(child);
      }
  };
  walk(pid);
  return out;
}

/**
 * The pid of the process whose command line contains `marker` (the test's own sshd, by its config
 * path).
 */
export function pidByCommandLine(marker: string): number {
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (
        readFileSync(join('/proc', name, 'cmdline'), 'utf8')
          .split('\0')
          .join(' ')
          .includes(marker)
      )
        return Number(name);
    } catch {
      // gone
    }
  }
  throw new Error(`no process with ${marker} in its command line`);
}

export function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/**
 * Resolves once a file in `dir` (or a folder below it) whose name ends with `suffix` holds at least
 * `bytes`.
 */
export function waitForPartial(
  dir: string,
  suffix: string,
  bytes: number,
  timeoutMs = 30_000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const until = Date.now() + timeoutMs;
    const timer = setInterval(() => {
      let names: string[] = [];
      try {
        names = readdirSync(dir, { recursive: true, encoding: 'utf8' });
      } catch {
        /* not created yet */
      }
      for (const n of names) {
        try {
          if (n.endsWith(suffix) && statSync(join(dir, n)).size >= bytes) {
            clearInterval(timer);
            resolve();
            return;
          }
        } catch {
          /* renamed meanwhile */
        }
      }
      if (Date.now() > until) {
        clearInterval(timer);
        reject(new Error(`no ${suffix} file of ${bytes} bytes in ${dir}`));
      }
    }, 1);
  });
}

export interface Child {
  pid: number;
  exited: Promise<number | null>;
  output: () => string;
  waitFor: (text: string) => Promise<void>;
}

const running = new Set<ChildProcess>();

/**
 * Kills (SIGKILL) every `recon` child a test started that is still running: a failed test leaves
 * none behind.
 */
export function killLeftovers(): void {
  for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  running.clear();
}

/** `recon <args>` as a child process; stdout and stderr collected. */
export function recon(args: string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, [cli, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let out = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of waiters) if (out.includes(w.text)) w.resolve();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    pid: child.pid!,
    exited,
    output: () => out,
    waitFor: (text) =>
      new Promise<void>((resolve, reject) => {
        if (out.includes(text)) return resolve();
        waiters.push({ text, resolve });
        void exited.then(() => reject(new Error(`exited before printing ${text}: ${out}`)));
      }),
  };
}
