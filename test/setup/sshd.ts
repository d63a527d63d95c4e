/**
 * A real OpenSSH sshd for the SFTP tests, on 127.0.0.1 and a free port, with a temporary host key
 * (whose fingerprint the tests pin), a temporary user key and its own sshd_config, logging in as
 * the user running the tests. Nothing on the machine changes: no account is created and no password
 * set. Password authentication needs an entry in /etc/shadow, so sshd runs in a private mount
 * namespace (`unshare --mount`) where a one-line temporary shadow file with a fresh random password
 * is bind-mounted over /etc/shadow and a tmpfs over /run (sshd's privilege-separation folder); both
 * vanish with the process. That needs root (as CI runs); otherwise startSshd says so.
 *
 * Binaries: $RECON_TEST_SSHD, $RECON_TEST_SSH_KEYGEN, $RECON_TEST_UNSHARE, else found on PATH (and
 * sshd in /usr/sbin, /usr/local/sbin, which a non-root PATH often lacks).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { SftpOptions } from '../../core/fetch/sftp.js';
import { findBinary, terminate } from '../../fixtures/binaries.js';
import { freePort } from '../../fixtures/free-port.js';

export { findBinary };

/** The account the tests log in as: the user running them. */
export const SFTP_USER = userInfo().username;

export interface RunningSshd {
  host: string;
  port: number;
  user: string;
  password: string;
  /** The user's private key (OpenSSH format) and its passphrase. */
  keyPath: string;
  keyPassphrase: string;
  /** `SHA256:…` as ssh-keygen prints it. */
  hostFingerprint: string;
  /** Absolute folder the user can read, where tests put registrar files. */
  remoteDir: string;
  dir: string;
  stop(): Promise<void>;
}

function sh(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, {
    encoding: 'utf8',
    input,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
}

/**
 * A SHA-512 crypt(3) hash of the password, by the system's crypt through perl (Debian's perl-base).
 */
function cryptHash(password: string): string {
  const salt = randomBytes(12)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, 16);
  return sh(
    'perl',
    ['-e', 'chomp(my $p = <STDIN>); print crypt($p, "\\$6\\$" . $ARGV[0] . "\\$")', salt],
    `${password}\n`,
  );
}

export async function startSshd(): Promise<RunningSshd> {
  const sshd = findBinary('sshd', 'RECON_TEST_SSHD', ['/usr/sbin', '/usr/local/sbin']);
  const keygen = findBinary('ssh-keygen', 'RECON_TEST_SSH_KEYGEN');
  if (process.getuid?.() !== 0) {
    throw new Error(
      'the SFTP tests run sshd with password login in a private mount namespace, which needs root (as CI runs them)',
    );
  }
  const unshare = findBinary('unshare', 'RECON_TEST_UNSHARE', ['/usr/bin', '/bin']);
  const dir = mkdtempSync(join(tmpdir(), 'recon-sshd-'));
  chmodSync(dir, 0o755);
  const password = randomBytes(12).toString('base64url');
  const hash = cryptHash(password);
  if (!hash.startsWith('$6$')) throw new Error('crypt(3) through perl gave no SHA-512 hash');
  const shadow = join(dir, 'shadow');
  writeFileSync(shadow, `${SFTP_USER}:${hash}:19000:0:99999:7:::\n`, { mode: 0o600 });
  const hostKey = join(dir, 'host_key');
  const userKey = join(dir, 'user_key');
  const keyPassphrase = randomBytes(9).toString('base64url');
  sh(keygen, ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  sh(keygen, ['-q', '-t', 'ed25519', '-N', keyPassphrase, '-f', userKey]);
  const hostFingerprint = sh(keygen, ['-l', '-E', 'sha256', '-f', `${hostKey}.pub`]).split(' ')[1];
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${userKey}.pub`));
  chmodSync(join(dir, 'authorized_keys'), 0o644);
  const remoteDir = join(dir, 'outbox');
  mkdirSync(remoteDir);
  const port = await freePort();
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PasswordAuthentication yes',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'UsePAM no',
      'StrictModes no',
      `PermitRootLogin ${SFTP_USER === 'root' ? 'yes' : 'no'}`,
      `AllowUsers ${SFTP_USER}`,
      'Subsystem sftp internal-sftp',
      'ForceCommand internal-sftp',
      'MaxStartups 100',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  // Inside the namespace only: the temporary shadow over /etc/shadow, a fresh /run with /run/sshd.
  const script =
    'mount --bind "$1" /etc/shadow && mount -t tmpfs -o size=1m,mode=755 recon-test-run /run && mkdir /run/sshd && exec "$2" -D -e -f "$3"';
  const child: ChildProcess = spawn(
    unshare,
    ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', shadow, sshd, config],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  await waitForPort(port, () => (child.exitCode !== null ? `sshd exited: ${stderr}` : null));
  return {
    host: '127.0.0.1',
    port,
    user: SFTP_USER,
    password,
    keyPath: userKey,
    keyPassphrase,
    hostFingerprint,
    remoteDir,
    dir,
    async stop() {
      await terminate(child, 3000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Fetch options for this sshd: password login, its host key pinned, CAMS files, 5 s deadlines, no
 * retry; `over` changes any of them.
 */
export function sftpOptions(
  sshd: RunningSshd,
  over: Partial<SftpOptions> & Pick<SftpOptions, 'stagingDir'>,
): SftpOptions {
  return {
    source: 'CAMS',
    host: sshd.host,
    port: sshd.port,
    username: sshd.user,
    password: sshd.password,
    hostFingerprints: [sshd.hostFingerprint],
    remoteDir: sshd.remoteDir,
    pattern: 'cams*.dbf',
    connectTimeoutMs: 5000,
    operationTimeoutMs: 5000,
    retries: 0,
    ...over,
  };
}

async function waitForPort(port: number, failed: () => string | null): Promise<void> {
  const until = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    const why = failed();
    if (why) throw new Error(why);
    if (Date.now() > until) throw new Error(`sshd did not listen on ${port} within 10 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
