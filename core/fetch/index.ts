/**
 * Gets a source's files onto local disk: a local folder as is, or an SFTP download into staging.
 * Zip archives among them are extracted into staging. Returns the DBF files to reconcile. Staging
 * is the run's own folder (core/fetch/staging.ts), removed when the run ends.
 */
import { resolvePath } from '../../config/loaded.js';
import type { SourceConfig } from '../../config/schema.js';
import type { Logger } from '../logger.js';
import { listLocalFiles, type FetchedFile } from './local.js';
import { checkDeliveredName } from './names.js';
import type { RunStaging } from './staging.js';
import { extractZip, isZip } from './zip.js';

export interface SourceFile extends FetchedFile {
  /** Known when the transport hashed the bytes on the way in. */
  sha256?: string;
}

export async function fetchSource(
  src: SourceConfig,
  baseDir: string,
  log: Logger,
  staging: RunStaging,
  signal?: AbortSignal,
): Promise<SourceFile[]> {
  const f = src.fetch;
  const stagingRoot = resolvePath(baseDir, f.stagingDir ?? `./staging/${src.name}`);
  let delivered: SourceFile[];
  if (f.type === 'sftp') {
    const stagingDir = await staging.dirFor(stagingRoot);
    // Loaded here: the SSH stack is not needed by a run that reads local folders.
    const { fetchSftp } = await import('./sftp.js');
    delivered = await fetchSftp(
      {
        source: src.name,
        host: f.host,
        port: f.port,
        username: f.username,
        password: f.password,
        privateKeyPath:
          f.privateKeyPath === undefined ? undefined : resolvePath(baseDir, f.privateKeyPath),
        passphrase: f.passphrase,
        hostFingerprints: [...f.hostFingerprints],
        remoteDir: f.remoteDir,
        pattern: f.pattern,
        stagingDir,
        connectTimeoutMs: f.connectTimeoutSeconds * 1000,
        operationTimeoutMs: f.operationTimeoutSeconds * 1000,
        retries: f.retries,
      },
      log,
      signal,
    );
  } else {
    delivered = await listLocalFiles(resolvePath(baseDir, f.dir), f.pattern);
    for (const file of delivered) checkDeliveredName(file.name, src.name);
  }
  const out: SourceFile[] = [];
  for (const file of delivered) {
    if (isZip(file.name)) {
      const extracted = await extractZip(
        file.path,
        await staging.dirFor(stagingRoot),
        src.name,
        f.zipPassword,
      );
      log.info(
        { source: src.name, file: file.name, extracted: extracted.map((e) => e.name) },
        'zip extracted',
      );
      out.push(...extracted);
    } else {
      out.push(file);
    }
  }
  return out;
}
