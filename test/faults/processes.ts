/** Helpers for the fault suite's real processes: find what a test started, stop and resume it. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

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
