/**
 * Remote and archive entry names are untrusted: they must match the source's pattern, carry no path
 * separator, NUL, control character or `..`, and resolve to a file directly inside the staging
 * folder. A long name is staged under a short one (its start, a hash, its extension) so that the
 * temporary name fits the filesystem's 255 bytes; reports keep the original name.
 */
import { createHash } from 'node:crypto';
import { extname, resolve, sep } from 'node:path';
import picomatch from 'picomatch';
import { ReconError } from '../errors.js';

export function patternMatcher(pattern: string): (name: string) => boolean {
  return picomatch(pattern, { nocase: true, dot: false });
}

/**
 * C0 controls, DEL and C1 controls (terminal escapes among them): exactly what this pattern finds.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Names longer than this (in bytes) are staged under a short name. */
const LONG_NAME_BYTES = 100;

/** Refuses a delivered name that is unsafe to stage, log or store; names what is wrong. */
export function checkDeliveredName(name: string, source: string): void {
  if (CONTROL.test(name)) {
    throw new ReconError(
      'RECON_FETCH_UNSAFE_NAME',
      `source ${source}: refusing delivered file name ${JSON.stringify(name)}: it holds control characters`,
      { source, file: JSON.stringify(name) },
    );
  }
  if (name.length === 0 || /[/\\]/.test(name) || name.includes('..') || name.startsWith('.')) {
    throw new ReconError(
      'RECON_FETCH_UNSAFE_NAME',
      `source ${source}: refusing delivered file name ${JSON.stringify(name)} (path separators, "..", NUL and hidden names are not allowed)`,
      { source, file: name },
    );
  }
}

/** The file name a delivered name is staged under: itself, or a short stand-in when it is long. */
export function stagingName(name: string): string {
  if (Buffer.byteLength(name) <= LONG_NAME_BYTES) return name;
  const ext = extname(name).slice(0, 10);
  const stem = [...name.slice(0, name.length - extname(name).length)]
    .filter((c) => /[A-Za-z0-9_-]/.test(c))
    .join('')
    .slice(0, 40);
  return `${stem}~${createHash('sha256').update(name).digest('hex').slice(0, 16)}${ext}`;
}

/** The staging path for a delivered name, or an error naming what is wrong with it. */
export function safeStagingPath(stagingDir: string, name: string, source: string): string {
  checkDeliveredName(name, source);
  const root = resolve(stagingDir);
  const target = resolve(root, stagingName(name));
  if (!target.startsWith(root + sep)) {
    throw new ReconError(
      'RECON_FETCH_UNSAFE_NAME',
      `source ${source}: delivered file name ${JSON.stringify(name)} resolves outside staging`,
      { source, file: name },
    );
  }
  return target;
}
