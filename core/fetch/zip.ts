/**
 * Registrars deliver password-protected zip archives (the password is often the ARN). Each DBF
 * entry is extracted into staging under a name derived from the archive, through a temporary name,
 * with zip.js (ZipCrypto and AES). A wrong password is a clear, coded error.
 */
import { createWriteStream, openAsBlob } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { BlobReader, ZipReader, configure } from '@zip.js/zip.js';
import { ReconError } from '../errors.js';
import type { FetchedFile } from './local.js';
import { safeStagingPath } from './names.js';

configure({ useWebWorkers: false });

export function isZip(name: string): boolean {
  return name.toLowerCase().endsWith('.zip');
}

export async function extractZip(zipPath: string, stagingDir: string, source: string, password: string | undefined): Promise<FetchedFile[]> {
  const zipName = basename(zipPath);
  await mkdir(stagingDir, { recursive: true });
  const reader = new ZipReader(new BlobReader(await openAsBlob(zipPath)), { password });
  const out: FetchedFile[] = [];
  try {
    let entries;
    try {
      entries = await reader.getEntries();
    } catch (err) {
      throw new ReconError('RECON_ZIP', `source ${source}: ${zipName} is not a readable zip archive: ${(err as Error).message}`, { source, file: zipName }, { cause: err });
    }
    for (const entry of entries) {
      if (entry.directory || !entry.filename.toLowerCase().endsWith('.dbf')) continue;
      const name = `${zipName.replace(/\.zip$/i, '')}__${basename(entry.filename.replace(/\\/g, '/'))}`;
      const target = safeStagingPath(stagingDir, name, source);
      const temp = join(dirname(target), `.${name}.${process.pid}.part`);
      if (entry.encrypted && !password) {
        throw new ReconError('RECON_ZIP_PASSWORD', `source ${source}: ${zipName} is encrypted and no zipPassword is configured`, { source, file: zipName });
      }
      try {
        await entry.getData!(Writable.toWeb(createWriteStream(temp)) as WritableStream<Uint8Array>, { password });
      } catch (err) {
        await rm(temp, { force: true });
        const message = (err as Error).message;
        if (/password/i.test(message)) {
          throw new ReconError('RECON_ZIP_PASSWORD', `source ${source}: wrong zipPassword for ${zipName} (entry ${entry.filename})`, { source, file: zipName }, { cause: err });
        }
        throw new ReconError('RECON_ZIP', `source ${source}: cannot extract ${entry.filename} from ${zipName}: ${message}`, { source, file: zipName }, { cause: err });
      }
      await rename(temp, target);
      out.push({ path: target, name });
    }
  } finally {
    await reader.close();
  }
  if (out.length === 0) throw new ReconError('RECON_ZIP', `source ${source}: ${zipName} holds no .dbf file`, { source, file: zipName });
  return out;
}
