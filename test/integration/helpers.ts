import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient, type Db } from 'mongodb';
import { loadConfig, type LoadedConfig } from '../../config/load.js';
import { createLogger } from '../../core/logger.js';
import { testMongoUri, uniqueDbName } from '../setup/services.js';
import { writeScenario, type Scenario, type Transaction } from '../../fixtures/scenario.js';

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `recon-${prefix}-`));
}

/**
 * Writes a recon.config.yaml into `dir` and loads it with MONGO_URI pointing at the test server.
 */
export async function writeConfig(dir: string, yaml: string): Promise<LoadedConfig> {
  const path = join(dir, 'recon.config.yaml');
  await writeFile(path, yaml);
  return loadConfig({ path, env: { ...process.env, MONGO_URI: testMongoUri() } });
}

export function mongoConfigYaml(database: string, extraLedger = '', sources = ''): string {
  return `timezone: Asia/Kolkata
ledger: { type: mongodb, uri: "\${MONGO_URI}", database: ${database}, collection: wealth_pulse_transactions${extraLedger} }
store:  { type: mongodb, uri: "\${MONGO_URI}", database: ${database} }
reconcile: { tolerance: 0.001 }
sources:
${
  sources ||
  `  - { name: CAMS,  plugin: cams,  fetch: { type: local, dir: ./incoming, pattern: "cams*.dbf" } }
  - { name: KARVY, plugin: karvy, fetch: { type: local, dir: ./incoming, pattern: "karvy*.dbf" } }`
}
`;
}

let client: MongoClient | null = null;

/** A test-side client, separate from the engine's, to seed and inspect the database. */
export async function testDb(name: string): Promise<Db> {
  client ??= await MongoClient.connect(testMongoUri());
  return client.db(name);
}

export async function closeTestClient(): Promise<void> {
  await client?.close();
  client = null;
}

export async function seedLedger(db: Db, transactions: Transaction[]): Promise<void> {
  await db
    .collection('wealth_pulse_transactions')
    .insertMany(transactions.map((t) => ({ ...t })) as never[]);
}

/** Whether the server stores Decimal128 (MongoDB does; FerretDB 1.x does not). */
export async function supportsDecimal128(db: Db): Promise<boolean> {
  if (process.env.MONGO_URI === undefined) return false;
  return db.command({ buildInfo: 1 }).then(
    (info) => !String(info.version ?? '').includes('ferretdb') && info.ferretdb === undefined,
    () => false,
  );
}

export const quietLogger = createLogger({ level: 'silent' });

export interface ScenarioWorld {
  dir: string;
  db: Db;
  database: string;
  scenario: Scenario;
}

/**
 * Registers mocha hooks on the calling suite: a temp folder with the scenario's DBF files in
 * `folder`, its ledger seeded in a fresh database; both removed afterwards. Fields are set in
 * before().
 */
export function withScenario(
  prefix: string,
  options: { folder?: string; decimal128?: boolean | 'auto' } = {},
): ScenarioWorld {
  const world = {} as ScenarioWorld;
  const folder = options.folder ?? 'incoming';
  before(async () => {
    world.dir = await tempDir(prefix);
    await mkdir(join(world.dir, folder));
    world.database = uniqueDbName(prefix);
    world.db = await testDb(world.database);
    const decimal128 =
      options.decimal128 === 'auto'
        ? await supportsDecimal128(world.db)
        : (options.decimal128 ?? false);
    world.scenario = await writeScenario(join(world.dir, folder), { decimal128 });
    await seedLedger(world.db, world.scenario.transactions);
  });
  after(async () => {
    await world.db?.dropDatabase().catch(() => undefined);
    await closeTestClient();
    if (world.dir) await rm(world.dir, { recursive: true, force: true });
  });
  return world;
}
