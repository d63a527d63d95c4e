/**
 * A real OpenSSH sshd for the SFTP tests, on 127.0.0.1 and a free port, with a temporary host key
 * (whose fingerprint the tests pin), a temporary user key and its own sshd_config. A dedicated local
 * user `reconsftp` gets a fresh random password each start (password auth needs a real account).
 * Needs root (to run sshd and manage that user) and Debian's openssh-server.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

export const SFTP_USER = 'reconsftp';

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
  return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
}

function ensureUser(password: string): { uid: number; gid: number } {
  try {
    sh('id', ['-u', SFTP_USER]);
  } catch {
    sh('useradd', ['--no-create-home', '--shell', '/bin/sh', SFTP_USER]);
  }
  sh('chpasswd', [], `${SFTP_USER}:${password}\n`);
  return { uid: Number(sh('id', ['-u', SFTP_USER]).trim()), gid: Number(sh('id', ['-g', SFTP_USER]).trim()) };
}

export async function startSshd(): Promise<RunningSshd> {
  const sshd = '/usr/sbin/sshd';
  if (!existsSync(sshd)) throw new Error('sshd not found: install Debian openssh-server (scripts/test.sh does)');
  if (process.getuid?.() !== 0) throw new Error('the SFTP tests start sshd and manage a test user: run them as root (as CI does)');
  const dir = mkdtempSync(join(tmpdir(), 'recon-sshd-'));
  chmodSync(dir, 0o755);
  const password = randomBytes(12).toString('base64url');
  const { uid, gid } = ensureUser(password);
  const hostKey = join(dir, 'host_key');
  const userKey = join(dir, 'user_key');
  const keyPassphrase = randomBytes(9).toString('base64url');
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', keyPassphrase, '-f', userKey]);
  const hostFingerprint = sh('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${hostKey}.pub`]).split(' ')[1];
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${userKey}.pub`));
  chmodSync(join(dir, 'authorized_keys'), 0o644);
  const remoteDir = join(dir, 'outbox');
  mkdirSync(remoteDir);
  chownSync(remoteDir, uid, gid);
  mkdirSync('/run/sshd', { recursive: true });
  const port = await freePort();
  const config = join(dir, 'sshd_config');
  writeFileSync(config, [
    `Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${hostKey}`, `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`, 'PasswordAuthentication yes', 'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes', 'UsePAM no', 'StrictModes no', 'PermitRootLogin no', `AllowUsers ${SFTP_USER}`,
    'Subsystem sftp internal-sftp', 'ForceCommand internal-sftp', 'MaxStartups 100', 'LogLevel ERROR', '',
  ].join('\n'));
  const child: ChildProcess = spawn(sshd, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  await waitForPort(port, () => (child.exitCode !== null ? `sshd exited: ${stderr}` : null));
  return {
    host: '127.0.0.1', port, user: SFTP_USER, password, keyPath: userKey, keyPassphrase, hostFingerprint, remoteDir, dir,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPort(port: number, failed: () => string | null): Promise<void> {
  const until = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    const why = failed();
    if (why) throw new Error(why);
    if (Date.now() > until) throw new Error(`sshd did not listen on ${port} within 10 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
