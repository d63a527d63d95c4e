/**
 * A temporary day for a suite: a folder for registrar files and the config, a fresh database for
 * the ledger and the results, optionally the hand-computed scenario (its DBF files written, its
 * ledger seeded); removed afterwards.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db } from 'mongodb';
import type { LoadedConfig } from '../../config/load.js';
import { writeLedgerNdjson, writeScenario, type Scenario } from '../../fixtures/scenario.js';
import type { Transaction } from '../../fixtures/transactions.js';
import { mongoStores, OFFLINE_STORES, writeConfig } from './config.js';
import {
  closeTestClient,
  seedLedger,
  supportsDecimal128,
  testDb,
  uniqueDbName,
} from './database.js';

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `recon-${prefix}-`));
}

/**
 * Registers mocha hooks that make a temporary folder before the suite's tests (before each test
 * with `each`), hand its path to `use`, and remove it afterwards.
 */
export function withTempDir(
  prefix: string,
  use: (dir: string) => void,
  options: { each?: boolean } = {},
): void {
  let dir = '';
  (options.each ? beforeEach : before)(async () => {
    dir = await tempDir(prefix);
    use(dir);
  });
  (options.each ? afterEach : after)(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
}

export interface DayOptions {
  /** The folder made inside the day for registrar files ('incoming'; false: none). */
  folder?: string | false;
  /** Without a database: an offline day (ndjson ledger, files store). */
  offline?: boolean;
  /** The offline ledger, written as ledger.ndjson (extended-JSON lines). */
  ledger?: string;
  /** The ledger: seeded into the database, or (offline) written as ledger.ndjson. */
  transactions?: Transaction[];
  /** Written as recon.config.yaml. */
  config?: string;
  /**
   * Writes the scenario's files into `folder` and its ledger into the database (offline: into
   * ledger.ndjson); `decimal128` keeps its two Decimal128 units as such ('auto': when the server
   * stores them).
   */
  scenario?: boolean | { decimal128: boolean | 'auto' };
}

export interface Day {
  dir: string;
  /** The day's database (unset when offline). */
  database: string;
  db: Db;
  /** Set when the day was made with `scenario`. */
  scenario: Scenario;
  /** A path inside the day's folder. */
  path(...parts: string[]): string;
  /**
   * The YAML lines of the day's ledger and store: the ndjson ledger and the files store when
   * offline, else the database (`extraLedger` adds ledger options: `, aggregation: client`).
   */
  stores(extraLedger?: string): string;
  /** Writes `yaml` as `name` (recon.config.yaml) in the day's folder and loads it. */
  config(yaml: string, name?: string): Promise<LoadedConfig>;
  seed(transactions: Transaction[]): Promise<void>;
  remove(): Promise<void>;
}

export async function makeDay(prefix: string, options: DayOptions = {}): Promise<Day> {
  const dir = await tempDir(prefix);
  const folder = options.folder ?? 'incoming';
  if (folder !== false) await mkdir(join(dir, folder));
  const database = options.offline ? '' : uniqueDbName(prefix);
  const db = options.offline ? (undefined as unknown as Db) : await testDb(database);
  const day: Day = {
    dir,
    database,
    db,
    scenario: undefined as unknown as Scenario,
    path: (...parts) => join(dir, ...parts),
    stores: (extraLedger) =>
      options.offline ? OFFLINE_STORES : mongoStores(database, extraLedger),
    config: (yaml, name) => writeConfig(dir, yaml, name),
    seed: (transactions) => seedLedger(db, transactions),
    async remove() {
      await db?.dropDatabase().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
  if (options.transactions && options.offline)
    await writeLedgerNdjson(day.path('ledger.ndjson'), options.transactions);
  else if (options.transactions) await day.seed(options.transactions);
  if (options.ledger !== undefined) await writeFile(day.path('ledger.ndjson'), options.ledger);
  if (options.config !== undefined) await writeFile(day.path('recon.config.yaml'), options.config);
  if (options.scenario) {
    const wanted = options.scenario === true ? false : options.scenario.decimal128;
    const decimal128 = wanted === 'auto' ? await supportsDecimal128(db) : wanted;
    day.scenario = await writeScenario(join(dir, folder || ''), { decimal128 });
    if (options.offline)
      await writeLedgerNdjson(day.path('ledger.ndjson'), day.scenario.transactions);
    else await day.seed(day.scenario.transactions);
  }
  return day;
}

/**
 * Registers mocha hooks on the calling suite that make the day before its tests (before each test
 * with `each`) and remove it after; the returned object's fields are set once the hook ran.
 */
export function useDay(prefix: string, options: DayOptions & { each?: boolean } = {}): Day {
  const day = {} as Day;
  (options.each ? beforeEach : before)(async () => {
    Object.assign(day, await makeDay(prefix, options));
  });
  (options.each ? afterEach : after)(async () => {
    await day.remove?.();
  });
  after(async () => {
    await closeTestClient();
  });
  return day;
}
