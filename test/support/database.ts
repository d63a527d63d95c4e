/**
 * The tests' one client of the test server (FerretDB, or MONGO_URI's MongoDB): separate from the
 * engine's, to seed ledgers and read what a run stored. Each test day has its own database.
 */
import { MongoClient, type Db } from 'mongodb';
import type { Transaction } from '../../fixtures/transactions.js';
import { testMongoUri, uniqueDbName } from '../setup/services.js';

export { testMongoUri, uniqueDbName };

/** The ledger collection the default config reads. */
export const LEDGER_COLLECTION = 'wealth_pulse_transactions';

let client: MongoClient | null = null;

export async function testDb(name: string): Promise<Db> {
  client ??= await MongoClient.connect(testMongoUri());
  return client.db(name);
}

export async function closeTestClient(): Promise<void> {
  await client?.close();
  client = null;
}

/** The environment a config with `${MONGO_URI}` is loaded in. */
export function mongoEnv(): NodeJS.ProcessEnv {
  return { ...process.env, MONGO_URI: testMongoUri() };
}

export async function seedLedger(db: Db, transactions: Transaction[]): Promise<void> {
  await db.collection(LEDGER_COLLECTION).insertMany(transactions.map((t) => ({ ...t })) as never[]);
}

/** Whether the server stores Decimal128 (MongoDB does; FerretDB 1.x does not). */
export async function supportsDecimal128(db: Db): Promise<boolean> {
  if (process.env.MONGO_URI === undefined) return false;
  return db.command({ buildInfo: 1 }).then(
    (info) => !String(info.version ?? '').includes('ferretdb') && info.ferretdb === undefined,
    () => false,
  );
}

/** The break rows (every status but matched) a run stored. */
export function breakDocuments(db: Db, runId: string) {
  return db
    .collection('reconciliation_results')
    .find({ reconciliation_run_id: runId, status: { $ne: 'matched' } })
    .toArray();
}

/** How many result rows a run stored. */
export function countResults(db: Db, runId: unknown): Promise<number> {
  return db.collection('reconciliation_results').countDocuments({ reconciliation_run_id: runId });
}
