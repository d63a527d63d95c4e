/**
 * Remote and archive entry names are untrusted: they must match the source's pattern, carry no path
 * separator, NUL or `..`, and resolve to a file directly inside the staging folder.
 */
import { resolve, sep } from 'node:path';
import picomatch from 'picomatch';
import { ReconError } from '../errors.js';

export function patternMatcher(pattern: string): (name: string) => boolean {
  return picomatch(pattern, { nocase: true, dot: false });
}

/** The staging path for a delivered name, or an error naming what is wrong with it. */
export function safeStagingPath(stagingDir: string, name: string, source: string): string {
  if (name.length === 0 || name.length > 255 || /[/\\\0]/.test(name) || name.includes('..') || name.startsWith('.')) {
    throw new ReconError('RECON_FETCH_UNSAFE_NAME', `source ${source}: refusing delivered file name ${JSON.stringify(name)} (path separators, "..", NUL and hidden names are not allowed)`, { source, file: name });
  }
  const root = resolve(stagingDir);
  const target = resolve(root, name);
  if (!target.startsWith(root + sep)) {
    throw new ReconError('RECON_FETCH_UNSAFE_NAME', `source ${source}: delivered file name ${JSON.stringify(name)} resolves outside staging`, { source, file: name });
  }
  return target;
}
