/**
 * One MongoClient per process and URI: the ledger and the store often share a server, and a
 * long-running daemon must not open a pool per run.
 */
import type * as Driver from 'mongodb';
import type { Db, MongoClient } from 'mongodb';
import { ReconError, type ErrorCode } from './errors.js';
import { redactUri } from './redact.js';

const clients = new Map<string, Promise<MongoClient>>();
let driver: typeof Driver | null = null;

/** The driver, loaded on first use: a run without MongoDB never pays for loading it. */
async function loadDriver(): Promise<typeof Driver> {
  return (driver ??= await import('mongodb'));
}

/** True when `err` is an instance of the driver's error class `name` (false before any client). */
export function isDriverError<N extends 'MongoBulkWriteError' | 'MongoServerError'>(
  err: unknown,
  name: N,
): err is InstanceType<(typeof Driver)[N]> {
  return driver !== null && err instanceof driver[name];
}

export function mongoClient(
  uri: string,
  options: { serverSelectionTimeoutMS?: number } = {},
): Promise<MongoClient> {
  let client = clients.get(uri);
  if (!client) {
    // A deadline written in the URI wins over the default (the driver lets the options object win).
    const inUri = /[?&]serverSelectionTimeoutMS=/i.test(uri);
    client = loadDriver()
      .then(({ MongoClient }) =>
        MongoClient.connect(uri, {
          appName: 'brokerage-recon',
          ...(inUri
            ? {}
            : { serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 15_000 }),
        }),
      )
      .catch((err: unknown) => {
        clients.delete(uri);
        throw new ReconError(
          'RECON_LEDGER_READ',
          `cannot connect to MongoDB at ${redactUri(uri)}: ${redactUri((err as Error).message)}`,
          {},
          { cause: err },
        );
      });
    clients.set(uri, client);
  }
  return client;
}

export async function closeMongoClients(): Promise<void> {
  const all = [...clients.values()];
  clients.clear();
  await Promise.allSettled(all.map(async (c) => (await c).close()));
}

/** A database on the shared client. */
export async function mongoDb(uri: string, database: string): Promise<Db> {
  return (await mongoClient(uri)).db(database);
}

/**
 * A failed database call as a ReconError of `code`, its message after what was being done; a
 * ReconError passes through as it is.
 */
export function mongoError(err: unknown, code: ErrorCode, what: string): ReconError {
  if (err instanceof ReconError) return err;
  return new ReconError(code, `${what}: ${(err as Error).message}`, {}, { cause: err });
}
