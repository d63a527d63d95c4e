/**
 * mocha root hooks: the real services the integration tests talk to. FerretDB starts once for the
 * whole run (or MONGO_URI is used as is); each test uses its own database name.
 */
import { randomBytes } from 'node:crypto';
import { startFerret, type RunningFerret } from '../../fixtures/ferretdb.js';

let ferret: RunningFerret | null = null;

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(600_000);
    if (!process.env.MONGO_URI) {
      ferret = await startFerret();
      process.env.RECON_TEST_MONGO_URI = ferret.uri;
    } else {
      process.env.RECON_TEST_MONGO_URI = process.env.MONGO_URI;
    }
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(30_000);
    const { closeMongoClients } = await import('../../core/mongo-client.js');
    await closeMongoClients();
    await ferret?.stop();
    ferret = null;
  },
};

/** The MongoDB-wire server for this test run. */
export function testMongoUri(): string {
  const uri = process.env.RECON_TEST_MONGO_URI;
  if (!uri) throw new Error('test services not started (run through mocha with .mocharc.json)');
  return uri;
}

/** A fresh database name, so tests never see each other's data. */
export function uniqueDbName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}
