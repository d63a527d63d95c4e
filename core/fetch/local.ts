/**
 * Local-folder transport: every regular file in `dir` whose name matches `pattern`
 * (case-insensitive glob on the name only), sorted by name.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import picomatch from 'picomatch';
import { fetchError } from '../errors.js';

export interface FetchedFile {
  /** Local path to read. */
  path: string;
  /** Name as delivered. */
  name: string;
}

export async function listLocalFiles(dir: string, pattern: string): Promise<FetchedFile[]> {
  const match = picomatch(pattern, { nocase: true, dot: false });
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw fetchError('list', dir, err);
  }
  return entries
    .filter((e) => e.isFile() && match(e.name))
    .map((e) => ({ path: join(dir, e.name), name: e.name }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
