/**
 * Each run stages its downloads and extractions in a folder of its own, `<stagingDir>/<run id>/`,
 * removed when the run ends, committed or failed. A folder whose run was killed (kill -9) is
 * removed by a later run once its owner (host and pid, written at creation) is gone. Only run-id
 * folders with an owner file are ever removed: stagingDir itself may be shared with anything.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

const OWNER = '.recon-owner';
const RUN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class RunStaging {
  private readonly dirs = new Set<string>();

  constructor(private readonly runId: string) {}

  /** This run's folder under `root` (created, owner recorded; orphans of dead runs removed). */
  async dirFor(root: string): Promise<string> {
    const dir = join(root, this.runId);
    if (!this.dirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, OWNER), `${hostname()} ${process.pid}\n`);
      this.dirs.add(dir);
      await removeOrphans(root, this.runId);
    }
    return dir;
  }

  /** Removes every folder this run staged into. */
  async cleanup(): Promise<void> {
    await Promise.allSettled([...this.dirs].map((d) => rm(d, { recursive: true, force: true })));
    this.dirs.clear();
  }
}

async function removeOrphans(root: string, own: string): Promise<void> {
  for (const name of await readdir(root).catch(() => [] as string[])) {
    if (name === own || !RUN_ID.test(name)) continue;
    const owner = await readFile(join(root, name, OWNER), 'utf8').catch(() => null);
    if (owner === null) continue;
    const [host, pid] = owner.trim().split(' ');
    if (host === hostname() && !alive(Number(pid)))
      await rm(join(root, name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
