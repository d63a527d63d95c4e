/**
 * SFTP transport (ssh2-sftp-client). The protocol, step by step:
 *
 * 1. Connect with a deadline and keepalive. The host key is pinned: its SHA256 fingerprint must be
 *    one of `hostFingerprints`, checked in ssh2's hostVerifier, i.e. before authentication. A
 *    mismatch fails at once, naming the host and the presented fingerprint, and is never retried.
 * 2. List `remoteDir`; keep regular files whose names match the pattern and are safe (no separator,
 *    no `..`, inside staging).
 * 3. Download each into staging under a temporary name, hashing on the way, with an idle deadline;
 *    the byte count must equal the remote size; then rename into place. A cut connection leaves
 *    only a temporary file, which is deleted and never read.
 * 4. Transient failures (resets, timeouts, refused connections) are retried with exponential
 *    backoff and jitter; authentication and host-key failures are not.
 * 5. Ending a session is bounded too: ssh2-sftp-client's end() resolves only on 'close', which a
 *    stalled server never sends, so after END_GRACE_MS the socket is destroyed. An abort (shutdown)
 *    destroys the socket at once, which fails whatever operation is in flight.
 * Every 'error' event is handled: a reset while ending the session is logged as a warning.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import SftpClient from 'ssh2-sftp-client';
import { ReconError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { FetchedFile } from './local.js';
import { patternMatcher, safeStagingPath } from './names.js';

export interface SftpOptions {
  source: string;
  host: string;
  port: number;
  username: string;
  password?: string;
  privateKeyPath?: string;
  passphrase?: string;
  hostFingerprints: string[];
  remoteDir: string;
  pattern: string;
  stagingDir: string;
  connectTimeoutMs: number;
  operationTimeoutMs: number;
  retries: number;
  /** Base of the exponential backoff; tests shorten it. */
  backoffMs?: number;
}

export interface DownloadedFile extends FetchedFile {
  size: number;
  sha256: string;
}

/** OpenSSH-style fingerprint of a host key blob: `SHA256:` + unpadded base64. */
export function fingerprint(key: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
}

export async function fetchSftp(
  o: SftpOptions,
  log: Logger,
  signal?: AbortSignal,
): Promise<DownloadedFile[]> {
  const done = new Map<string, DownloadedFile>();
  const backoff = o.backoffMs ?? 1000;
  for (let attempt = 0; ; attempt++) {
    try {
      await session(o, log, done, signal);
      return [...done.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
    } catch (err) {
      if (signal?.aborted)
        throw new ReconError(
          'RECON_ABANDONED',
          `fetch from ${o.host} abandoned: shutdown requested`,
          { source: o.source },
          { cause: err },
        );
      if (!isTransient(err) || attempt >= o.retries) throw asSftpError(err, o);
      const wait = Math.round(backoff * 2 ** attempt * (0.5 + Math.random()));
      log.warn(
        {
          source: o.source,
          host: o.host,
          attempt: attempt + 1,
          waitMs: wait,
          err: (err as Error).message,
        },
        'sftp transient failure, retrying',
      );
      await sleep(wait, signal);
    }
  }
}

async function session(
  o: SftpOptions,
  log: Logger,
  done: Map<string, DownloadedFile>,
  signal?: AbortSignal,
): Promise<void> {
  // ssh2-sftp-client's default end/close/error callbacks console.log to stdout, which would corrupt
  // `recon run --json` after a cut connection: route them to the logger instead.
  const client = new SftpClient(`recon-${o.source}`, {
    error: (err: unknown) =>
      log.warn(
        { source: o.source, host: o.host, err: (err as Error).message },
        'sftp connection error',
      ),
    end: () => log.debug({ source: o.source, host: o.host }, 'sftp connection ended'),
    close: () => log.debug({ source: o.source, host: o.host }, 'sftp connection closed'),
  });
  let presented: string | null = null;
  let rejected = false;
  const onError = (err: Error) =>
    log.warn({ source: o.source, host: o.host, err: err.message }, 'sftp connection error');
  client.on('error', onError);
  const privateKey = o.privateKeyPath ? await readFile(o.privateKeyPath) : undefined;
  const destroy = () => sshSocket(client)?.destroy();
  signal?.addEventListener('abort', destroy, { once: true });
  try {
    if (signal?.aborted)
      throw new ReconError('RECON_ABANDONED', 'fetch abandoned: shutdown requested');
    try {
      await deadline(
        client.connect({
          host: o.host,
          port: o.port,
          username: o.username,
          password: o.password,
          privateKey,
          passphrase: o.passphrase,
          readyTimeout: o.connectTimeoutMs,
          keepaliveInterval: 10_000,
          keepaliveCountMax: 3,
          hostVerifier: (key: Buffer) => {
            presented = fingerprint(key);
            rejected = !o.hostFingerprints.includes(presented);
            return !rejected;
          },
        }),
        o.connectTimeoutMs + 1000,
        'connect',
      );
    } catch (err) {
      if (rejected) {
        throw new ReconError(
          'RECON_SFTP_HOSTKEY',
          `source ${o.source}: host ${o.host}:${o.port} presented host key ${presented} which matches none of hostFingerprints; not connecting`,
          { source: o.source, host: o.host, presented },
        );
      }
      throw err;
    }
    log.debug({ source: o.source, host: o.host, fingerprint: presented }, 'sftp connected');
    const matches = patternMatcher(o.pattern);
    const listing = await deadline(client.list(o.remoteDir), o.operationTimeoutMs, 'list');
    await mkdir(o.stagingDir, { recursive: true });
    for (const entry of listing) {
      if (entry.type !== '-' || !matches(entry.name)) continue;
      const target = safeStagingPath(o.stagingDir, entry.name, o.source);
      if (done.has(entry.name)) continue;
      if (signal?.aborted)
        throw new ReconError('RECON_ABANDONED', 'fetch abandoned: shutdown requested');
      done.set(
        entry.name,
        await download(
          client,
          o,
          posix.join(o.remoteDir, entry.name),
          entry.name,
          entry.size,
          target,
          log,
        ),
      );
    }
  } finally {
    signal?.removeEventListener('abort', destroy);
    await deadline(client.end(), END_GRACE_MS, 'end').catch((err: Error) =>
      log.warn(
        { source: o.source, host: o.host, err: err.message },
        'sftp session did not end cleanly; socket destroyed',
      ),
    );
    destroy();
    client.removeListener('error', onError);
  }
}

/** How long a session may take to end before its socket is destroyed. */
const END_GRACE_MS = 2000;

/**
 * The TCP socket under ssh2-sftp-client's ssh2 connection (not in the type definitions). ssh2's own
 * destroy() does nothing once end() has half-closed the socket, so the socket itself is destroyed.
 */
function sshSocket(client: SftpClient): { destroy(): unknown } | undefined {
  return (client as unknown as { client?: { _sock?: { destroy(): unknown } } }).client?._sock;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

async function download(
  client: SftpClient,
  o: SftpOptions,
  remotePath: string,
  name: string,
  size: number,
  target: string,
  log: Logger,
): Promise<DownloadedFile> {
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.${Date.now()}.part`);
  const hash = createHash('sha256');
  let bytes = 0;
  let idle: NodeJS.Timeout | undefined;
  const t0 = performance.now();
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      idle?.refresh();
      cb(null, chunk);
    },
  });
  const source = client.createReadStream(remotePath);
  try {
    await new Promise<void>((resolve, reject) => {
      idle = setTimeout(() => {
        const err = Object.assign(
          new Error(`no data for ${o.operationTimeoutMs} ms while downloading ${name}`),
          { code: 'ETIMEDOUT' },
        );
        source.destroy(err);
        reject(err);
      }, o.operationTimeoutMs);
      pipeline(source, meter, createWriteStream(temp)).then(resolve, reject);
    });
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  } finally {
    clearTimeout(idle);
  }
  if (bytes !== size) {
    await rm(temp, { force: true });
    throw Object.assign(
      new Error(`downloaded ${bytes} bytes of ${name} but the server lists ${size}`),
      { code: 'ESHORTREAD' },
    );
  }
  await rename(temp, target);
  const sha256 = hash.digest('hex');
  log.info(
    { source: o.source, file: name, bytes, sha256, ms: Math.round(performance.now() - t0) },
    'sftp file downloaded',
  );
  return { path: target, name, size, sha256 };
}

function deadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          Object.assign(new Error(`sftp ${what} took longer than ${ms} ms`), { code: 'ETIMEDOUT' }),
        ),
      ms,
    );
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ETIMEDOUT',
  'ECONNREFUSED',
  'EPIPE',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ESHORTREAD',
  'ERR_GENERIC_CLIENT',
]);

function isTransient(err: unknown): boolean {
  if (err instanceof ReconError) return false;
  const e = err as { code?: unknown; message?: string; level?: string };
  if (e.level === 'client-authentication' || /authentication methods failed/i.test(e.message ?? ''))
    return false;
  if (typeof e.code === 'string' && TRANSIENT_CODES.has(e.code)) return true;
  return /timed out|reset|closed|ended|handshake|No response from server|connection lost|premature close/i.test(
    e.message ?? '',
  );
}

function asSftpError(err: unknown, o: SftpOptions): ReconError {
  if (err instanceof ReconError) return err;
  const message = (err as Error).message ?? String(err);
  if (
    /authentication methods failed/i.test(message) ||
    (err as { level?: string }).level === 'client-authentication'
  ) {
    return new ReconError(
      'RECON_SFTP_AUTH',
      `source ${o.source}: authentication as ${o.username} at ${o.host}:${o.port} failed`,
      { source: o.source, host: o.host },
      { cause: err },
    );
  }
  return new ReconError(
    'RECON_SFTP',
    `source ${o.source}: sftp ${o.host}:${o.port} failed: ${message}`,
    { source: o.source, host: o.host },
    { cause: err },
  );
}
