/**
 * The programs the tests run (sshd, ssh-keygen, chromium, …): named by an environment variable or
 * found on PATH.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * An executable: the environment variable if set, else the first match on PATH (then `extraDirs`).
 */
export function findBinary(name: string, envVar: string, extraDirs: string[] = []): string {
  const fromEnv = process.env[envVar];
  if (fromEnv) return fromEnv;
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...extraDirs];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new Error(
    `${name} not found on PATH${extraDirs.length ? ` or in ${extraDirs.join(', ')}` : ''}: install it (scripts/test.sh says how) or set ${envVar}`,
  );
}
