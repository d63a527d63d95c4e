/**
 * What an input file is on disk, to tell whether it changed while a run read it: another file put
 * in its place (a delivery or export renamed over it), or the file written to. A run reads each
 * input as one version or not at all.
 */
import type { Stats } from 'node:fs';

export interface FileIdentity {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
}

export function identityOf(stats: Stats): FileIdentity {
  return { dev: stats.dev, ino: stats.ino, size: stats.size, mtimeMs: stats.mtimeMs };
}

/**
 * How a file changed since `was` (null: `now` is the same file, unchanged): "replaced" when
 * another file is in its place, else the write as a person reads it (sizes and modification time).
 */
export function changeOf(was: FileIdentity, now: FileIdentity): string | null {
  if (now.dev !== was.dev || now.ino !== was.ino) return 'replaced';
  if (now.size === was.size && now.mtimeMs === was.mtimeMs) return null;
  return `${was.size} bytes, now ${now.size}, modified ${new Date(now.mtimeMs).toISOString()}`;
}
