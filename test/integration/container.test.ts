import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../config/load.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('container files (no Docker engine here: what can be checked without one)', () => {
  it('copies only paths that exist and runs the daemon as a non-root user by default', () => {
    const dockerfile = readFileSync(`${root}Dockerfile`, 'utf8');
    for (const m of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
      for (const path of m[1].split(/\s+/)) expect(existsSync(`${root}${path}`), path).to.equal(true);
    }
    expect(dockerfile).to.match(/npm ci --omit=dev/);
    expect(dockerfile).to.match(/^USER node$/m);
    expect(dockerfile).to.match(/^CMD \["daemon", "--config", "\/config\/recon.config.yaml"\]$/m);
    expect(dockerfile.match(/^FROM /gm)).to.have.length(2);
  });

  it('ships a compose config that validates once its variables are set', async () => {
    const { config } = await loadConfig({
      path: `${root}compose/recon.config.yaml`,
      env: { MONGO_URI: 'mongodb://mongo:27017/', SFTP_PASSWORD: 'p', SFTP_FINGERPRINT: `SHA256:${'A'.repeat(43)}`, ZIP_PASSWORD: 'z' },
    });
    expect(config.schedule?.cron).to.equal('0 30 7 * * *');
    expect(config.sources.every((s) => s.fetch.type === 'sftp')).to.equal(true);
    const compose = readFileSync(`${root}docker-compose.yaml`, 'utf8');
    for (const service of ['mongo:', 'sftp:', 'recon:']) expect(compose).to.contain(service);
  });
});
