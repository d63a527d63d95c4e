/**
 * Registrars deliver password-protected zip archives (the password is often the ARN). Each DBF
 * entry is extracted into staging under a name derived from the archive, through a temporary name,
 * with zip.js (ZipCrypto and AES). A wrong password is a clear, coded error.
 */
import { createWriteStream, openAsBlob } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import { Writable } from 'node:stream';
import { BlobReader, ZipReader, configure, type FileEntry } from '@zip.js/zip.js';
import { ReconError } from '../errors.js';
import type { FetchedFile } from './local.js';
import { safeStagingPath } from './names.js';

configure({ useWebWorkers: false });

export function isZip(name: string): boolean {
  return name.toLowerCase().endsWith('.zip');
}

export async function extractZip(
  zipPath: string,
  stagingDir: string,
  source: string,
  password: string | undefined,
): Promise<FetchedFile[]> {
  const zipName = basename(zipPath);
  await mkdir(stagingDir, { recursive: true });
  const reader = new ZipReader(new BlobReader(await openAsBlob(zipPath)), { password });
  const out: FetchedFile[] = [];
  try {
    let entries;
    try {
      entries = await reader.getEntries();
    } catch (err) {
      throw new ReconError(
        'RECON_ZIP',
        `source ${source}: ${zipName} is not a readable zip archive: ${(err as Error).message}`,
        { source, file: zipName },
        { cause: err },
      );
    }
    const dbfs = entries.filter(
      (e): e is FileEntry => !e.directory && e.filename.toLowerCase().endsWith('.dbf'),
    );
    const names = stagedNames(
      zipName,
      dbfs.map((e) => e.filename),
      source,
    );
    for (const [i, entry] of dbfs.entries()) {
      const name = names[i];
      const target = safeStagingPath(stagingDir, name, source);
      const temp = join(dirname(target), `.${basename(target)}.${process.pid}.part`);
      if (entry.encrypted && !password) {
        throw new ReconError(
          'RECON_ZIP_PASSWORD',
          `source ${source}: ${zipName} is encrypted and no zipPassword is configured`,
          { source, file: zipName },
        );
      }
      try {
        await entry.getData(Writable.toWeb(createWriteStream(temp)) as WritableStream<Uint8Array>, {
          password,
        });
      } catch (err) {
        await rm(temp, { force: true });
        const message = (err as Error).message;
        if (/password/i.test(message)) {
          throw new ReconError(
            'RECON_ZIP_PASSWORD',
            `source ${source}: wrong zipPassword for ${zipName} (entry ${entry.filename})`,
            { source, file: zipName },
            { cause: err },
          );
        }
        throw new ReconError(
          'RECON_ZIP',
          `source ${source}: cannot extract ${entry.filename} from ${zipName}: ${message}`,
          { source, file: zipName },
          { cause: err },
        );
      }
      await rename(temp, target);
      out.push({ path: target, name });
    }
  } finally {
    await reader.close();
  }
  if (out.length === 0)
    throw new ReconError('RECON_ZIP', `source ${source}: ${zipName} holds no .dbf file`, {
      source,
      file: zipName,
    });
  return out;
}

/**
 * The names an archive's DBF entries are reconciled and staged under: `<archive>__<entry name>`.
 * Entries that share a base name in different folders (`a/cams.dbf`, `b/cams.dbf`) keep their
 * folders in the name (`a_cams.dbf`, `b_cams.dbf`); two entries that would still share a name are
 * refused, naming both.
 */
export function stagedNames(zipName: string, entryNames: string[], source: string): string[] {
  const prefix = `${zipName.replace(/\.zip$/i, '')}__`;
  const paths = entryNames.map((n) => n.replace(/\\/g, '/'));
  const baseCount = new Map<string, number>();
  for (const p of paths)
    baseCount.set(posix.basename(p), (baseCount.get(posix.basename(p)) ?? 0) + 1);
  const taken = new Map<string, string>();
  return paths.map((p, i) => {
    const base = posix.basename(p);
    const name =
      prefix +
      (baseCount.get(base)! > 1
        ? p
            .split('/')
            .filter((s) => s !== '' && s !== '.')
            .join('_')
        : base);
    const key = name.toLowerCase();
    const other = taken.get(key);
    if (other !== undefined) {
      throw new ReconError(
        'RECON_ZIP',
        `source ${source}: ${zipName} holds entries ${JSON.stringify(other)} and ${JSON.stringify(entryNames[i])} that would both be staged as ${JSON.stringify(name)}; refusing the archive`,
        { source, file: zipName },
      );
    }
    taken.set(key, entryNames[i]);
    return name;
  });
}
