/**
 * MongoDB result store and the publish protocol (DESIGN.md §4), without multi-document transactions:
 *
 * 1. begin: insert the run document as `running`; rows of earlier failed runs are removed.
 * 2. writeRows: unordered bulk inserts in batches. A unique index on (run, source, product, folio)
 *    makes a retried batch a no-op instead of a duplicate.
 * 3. commit: one atomic update flips the run to `committed` (only from `running`). This is the
 *    publish point: readers take the latest committed run for a (source, as-of day).
 * 4. supersede: rows of older runs for the same (source, as-of day) are deleted. A crash before this
 *    leaves two committed runs, and readers still pick the newer; the next commit cleans up.
 * A crash before commit leaves the run `running` with unpublished rows; the next run marks such runs
 * failed once they are older than `staleAfterMs` and deletes their rows.
 */
import type { Collection, Db } from 'mongodb';
import { MongoBulkWriteError } from 'mongodb';
import { ReconError } from '../errors.js';
import { mongoClient } from '../mongo-client.js';
import type { ReconRow } from '../reconcile.js';
import { coverageOf, resultDocument, runDocument, type ResultDocument, type RunDocument } from './documents.js';
import type { PreviousBreak } from '../breaks/lifecycle.js';
import type { ResultStore, RunSummary } from './types.js';

export interface MongoStoreOptions {
  uri: string;
  database: string;
  resultsCollection: string;
  runsCollection: string;
  batchSize: number;
  staleAfterMs: number;
}

export class MongoStore implements ResultStore {
  private indexed = false;

  constructor(private readonly options: MongoStoreOptions) {}

  async db(): Promise<Db> {
    return (await mongoClient(this.options.uri)).db(this.options.database);
  }

  async results(): Promise<Collection<ResultDocument>> {
    return (await this.db()).collection<ResultDocument>(this.options.resultsCollection);
  }

  async runs(): Promise<Collection<RunDocument>> {
    return (await this.db()).collection<RunDocument>(this.options.runsCollection);
  }

  private async ensureIndexes(): Promise<void> {
    if (this.indexed) return;
    const results = await this.results();
    const runs = await this.runs();
    await results.createIndex({ reconciliation_run_id: 1, source: 1, product_code: 1, folio_no: 1 }, { unique: true, name: 'run_key_unique' });
    await results.createIndex({ as_of_date: 1, source: 1 }, { name: 'as_of_source' });
    await results.createIndex({ source: 1, product_code: 1, folio_no: 1 }, { name: 'break_identity' });
    await runs.createIndex({ status: 1, started_at: -1 }, { name: 'status_started' });
    this.indexed = true;
  }

  async begin(run: RunSummary): Promise<void> {
    await this.guard('begin run', async () => {
      await this.ensureIndexes();
      const runs = await this.runs();
      const staleBefore = new Date(run.startedAt.getTime() - this.options.staleAfterMs);
      await runs.updateMany(
        { status: 'running', started_at: { $lt: staleBefore } },
        { $set: { status: 'failed', finished_at: run.startedAt, error: { code: 'RECON_ABANDONED', message: 'run did not finish; marked failed by a later run' } } },
      );
      const failed = await runs.find({ status: 'failed' }, { projection: { _id: 1 } }).toArray();
      if (failed.length > 0) await (await this.results()).deleteMany({ reconciliation_run_id: { $in: failed.map((r) => r._id) } });
      await runs.insertOne(runDocument(run));
    });
  }

  async writeRows(run: RunSummary, rows: readonly ReconRow[]): Promise<void> {
    const results = await this.results();
    for (let i = 0; i < rows.length; i += this.options.batchSize) {
      const docs = rows.slice(i, i + this.options.batchSize).map((r) => resultDocument(run, r));
      await this.guard('write results', async () => {
        try {
          await results.insertMany(docs, { ordered: false });
        } catch (err) {
          if (err instanceof MongoBulkWriteError && onlyDuplicates(err)) return;
          throw err;
        }
      });
    }
  }

  async commit(run: RunSummary): Promise<void> {
    await this.guard('commit run', async () => {
      const runs = await this.runs();
      const doc = runDocument(run);
      const { _id: _ignored, ...fields } = doc;
      const res = await runs.updateOne({ _id: run.runId, status: 'running' }, { $set: { ...fields, status: 'committed' } });
      if (res.matchedCount !== 1) {
        throw new ReconError('RECON_STORE_WRITE', `run ${run.runId} was no longer running at commit (another process marked it); nothing was published`);
      }
      await this.supersede(run);
    });
  }

  /**
   * Deletes older rows for every (source, as-of day) this run now publishes. Only rows of runs that
   * started no later than this one: a run that commits late (a stalled daemon past its lease, see
   * core/lease.ts) must never erase a newer run's published rows.
   */
  private async supersede(run: RunSummary): Promise<void> {
    const results = await this.results();
    for (const c of coverageOf(run)) {
      await results.deleteMany({ reconciliation_run_id: { $ne: run.runId }, source: c.source, as_of_date: c.as_of_date, reconciliation_date: { $lte: run.startedAt } });
    }
  }

  async fail(run: RunSummary): Promise<void> {
    await this.guard('mark run failed', async () => {
      const runs = await this.runs();
      const { _id: _ignored, ...fields } = runDocument(run);
      await runs.updateOne({ _id: run.runId, status: 'running' }, { $set: { ...fields, status: 'failed' } });
      await (await this.results()).deleteMany({ reconciliation_run_id: run.runId });
    });
  }

  async skip(run: RunSummary): Promise<void> {
    await this.guard('mark run skipped', async () => {
      const { _id: _ignored, ...fields } = runDocument(run);
      await (await this.runs()).updateOne({ _id: run.runId, status: 'running' }, { $set: { ...fields, status: 'skipped' } });
    });
  }

  async previousBreaks(source: string | null, asOf: string): Promise<PreviousBreak[]> {
    return this.guard('read previous breaks', async () => {
      const results = await this.results();
      const last = await results.find({ source, as_of_date: { $lt: asOf } }, { projection: { as_of_date: 1 } }).sort({ as_of_date: -1 }).limit(1).toArray();
      if (last.length === 0) return [];
      const day = last[0].as_of_date;
      const rows = await results.find({ source, as_of_date: day, status: { $ne: 'matched' } }).toArray();
      const runIds = [...new Set(rows.map((r) => r.reconciliation_run_id))];
      if (runIds.length === 0) return [];
      const latest = await (await this.runs()).find({ _id: { $in: runIds }, status: 'committed' }, { projection: { _id: 1 } }).sort({ started_at: -1 }).limit(1).toArray();
      if (latest.length === 0) return [];
      return rows.filter((r) => r.reconciliation_run_id === latest[0]._id).map((r) => ({
        source: r.source, productCode: r.product_code, folio: r.folio_no, status: r.status, difference: r.difference, firstSeen: r.first_seen ?? r.as_of_date, asOf: r.as_of_date,
      }));
    });
  }

  async committedFileHashes(configHash: string, sha256s: readonly string[]): Promise<Set<string>> {
    return this.guard('look up reconciled files', async () => {
      const runs = await this.runs();
      const found = new Set<string>();
      const docs = await runs.find({ status: 'committed', config_hash: configHash, file_hashes: { $in: [...sha256s] } }, { projection: { file_hashes: 1 } }).toArray();
      for (const d of docs) for (const h of d.file_hashes ?? []) if (sha256s.includes(h)) found.add(h);
      return found;
    });
  }

  async close(): Promise<void> {
    // The client is shared per process; closeMongoClients() ends it.
  }

  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ReconError) throw err;
      throw new ReconError('RECON_STORE_WRITE', `result store: ${what} failed: ${(err as Error).message}`, {}, { cause: err });
    }
  }
}

function onlyDuplicates(err: MongoBulkWriteError): boolean {
  const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
  return errors.length > 0 && errors.every((e) => e.code === 11000);
}
