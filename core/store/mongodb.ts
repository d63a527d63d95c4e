/**
 * MongoDB result store and the publish protocol, without multi-document transactions (FerretDB has
 * none, nor does a standalone MongoDB):
 *
 * 1. begin: insert the run document as `running`. Runs still `running` after `staleAfterMs` are
 *    marked failed (their process died).
 * 2. writeRows: unordered bulk inserts in batches under the run id. A unique index on (run, source,
 *    product, folio) makes a retried batch a no-op instead of a duplicate.
 * 3. commit: a conditional publish. If a run ordered after this one (by started_at, then id) has
 *    already committed any (source, as-of day) this run covers, this run is superseded before it is
 *    published (RECON_SUPERSEDED) and its rows are removed. Otherwise one single-document update
 * flips it to `committed` with `cleanup_pending`. The flip is the publish point: from then on the
 *    run is committed, whatever happens next. Readers take, for a (source, as-of day), the latest
 *    committed run in the same order, so at every instant exactly one complete run is visible.
 * 4. supersede: cleanup after the flip, never a reason to fail the run. Rows of runs ordered before
 * this one for its (source, as-of day) pairs are deleted in batches by _id (one delete of a whole
 *    day exceeds FerretDB's SQL variable limit), each batch retried; then `cleanup_pending` is
 *    cleared. Deleting only earlier runs' rows keeps a late commit (a stalled process) from erasing
 *    newer results, and makes cleanup idempotent: `tidy` at the start of any later run finishes a
 *    cleanup that was cut short, and removes the rows of failed runs.
 * Two runs of one day at once: the later-started one wins. The earlier one either sees it committed
 * at its own commit (superseded, nothing published) or committed first and then loses its rows to
 * the later run's cleanup, which starts only after the earlier run's last write.
 */
import type { Collection, Db, Filter, MongoBulkWriteError, ObjectId } from 'mongodb';
import { ReconError } from '../errors.js';
import { isDriverError, mongoDb, mongoError } from '../mongo-client.js';
import type { ReconRow } from '../reconcile.js';
import {
  coverageOf,
  resultDocument,
  runDocument,
  type ResultDocument,
  type RunDocument,
} from './documents.js';
import type { PreviousBreak } from '../breaks/lifecycle.js';
import { previousBreakOf } from './reader.js';
import type { ResultStore, RunSummary, TidyReport } from './types.js';

/**
 * Rows per delete: inside FerretDB's SQLite variable limit (32,766), with room for rows inserted
 * meanwhile.
 */
const DELETE_BATCH = 25_000;
/** Insert batches in flight at once: bounded, so memory and the server's queue stay small. */
const WRITES_IN_FLIGHT = 3;

export interface MongoStoreOptions {
  uri: string;
  database: string;
  resultsCollection: string;
  runsCollection: string;
  batchSize: number;
  staleAfterMs: number;
}

/** The result and run collections of a store's database (the store writes, readers read). */
export class StoreCollections {
  constructor(
    private readonly uri: string,
    private readonly database: string,
    private readonly names: { results: string; runs: string },
  ) {}

  db(): Promise<Db> {
    return mongoDb(this.uri, this.database);
  }

  async results(): Promise<Collection<ResultDocument>> {
    return (await this.db()).collection<ResultDocument>(this.names.results);
  }

  async runs(): Promise<Collection<RunDocument>> {
    return (await this.db()).collection<RunDocument>(this.names.runs);
  }
}

export class MongoStore extends StoreCollections implements ResultStore {
  private indexed = false;

  constructor(private readonly options: MongoStoreOptions) {
    super(options.uri, options.database, {
      results: options.resultsCollection,
      runs: options.runsCollection,
    });
  }

  private async ensureIndexes(): Promise<void> {
    if (this.indexed) return;
    const results = await this.results();
    const runs = await this.runs();
    await results.createIndex(
      { reconciliation_run_id: 1, source: 1, product_code: 1, folio_no: 1 },
      { unique: true, name: 'run_key_unique' },
    );
    await results.createIndex({ as_of_date: 1, source: 1 }, { name: 'as_of_source' });
    await results.createIndex(
      { source: 1, product_code: 1, folio_no: 1 },
      { name: 'break_identity' },
    );
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
        {
          $set: {
            status: 'failed',
            finished_at: run.startedAt,
            error: {
              code: 'RECON_ABANDONED',
              message: 'run did not finish; marked failed by a later run',
            },
          },
        },
      );
      await runs.insertOne(runDocument(run));
    });
  }

  async tidy(): Promise<TidyReport> {
    return this.guard('clean up earlier runs', async () => {
      const runs = await this.runs();
      const report: TidyReport = { failedRuns: 0, pendingCleanups: 0, rowsDeleted: 0 };
      const failed = (
        await retried(() =>
          runs
            .find({ status: 'failed', rows_removed: { $ne: true } }, { projection: { _id: 1 } })
            .toArray(),
        )
      ).map((f) => f._id);
      if (failed.length > 0) {
        report.rowsDeleted += await this.deleteRows({ reconciliation_run_id: { $in: failed } });
        await retried(() =>
          runs.updateMany(
            { _id: { $in: failed }, status: 'failed' },
            { $set: { rows_removed: true } },
          ),
        );
        report.failedRuns = failed.length;
      }
      const pending = await retried(() =>
        runs
          .find(
            { status: 'committed', cleanup_pending: true },
            { projection: { _id: 1, started_at: 1, coverage: 1 } },
          )
          .toArray(),
      );
      for (const p of pending) {
        report.rowsDeleted += await this.supersedeFor({
          _id: p._id,
          started_at: p.started_at,
          coverage: p.coverage ?? [],
        });
        report.pendingCleanups++;
      }
      return report;
    });
  }

  /**
   * Inserts in batches of `batchSize`, up to WRITES_IN_FLIGHT at once (the server parses one while
   * it stores another). Resolves, or fails, only once no insert of the call is in flight, so that
   * commit, and the deletes of fail(), always come after the run's last write.
   */
  async writeRows(run: RunSummary, rows: readonly ReconRow[]): Promise<void> {
    const results = await this.results();
    const size = this.options.batchSize;
    let next = 0;
    let failure: unknown = null;
    const lane = async () => {
      while (failure === null && next < rows.length) {
        const from = next;
        next += size;
        const docs = rows.slice(from, from + size).map((r) => resultDocument(run, r));
        try {
          await results.insertMany(docs, { ordered: false });
        } catch (err) {
          // A retried batch whose rows are already in: the unique index refused them all.
          if (!(isDriverError(err, 'MongoBulkWriteError') && onlyDuplicates(err))) failure ??= err;
        }
      }
    };
    const lanes = Math.min(WRITES_IN_FLIGHT, Math.ceil(rows.length / size));
    await Promise.all(Array.from({ length: lanes }, lane));
    if (failure !== null)
      throw mongoError(failure, 'RECON_STORE_WRITE', 'result store: write results failed');
  }

  async commit(run: RunSummary): Promise<void> {
    const runs = await this.guard('commit run', () => this.runs());
    const newer = await this.guard('commit run', () => this.newerCommitted(run));
    if (newer) {
      throw new ReconError(
        'RECON_SUPERSEDED',
        `run ${run.runId}: run ${newer.runId}, started later, already published ${newer.source ?? 'unowned ledger positions'} as of ${newer.asOf}; this run's results were not published`,
        { supersededBy: newer.runId },
      );
    }
    await this.guard('commit run', async () => {
      const { _id: _ignored, ...fields } = runDocument(run);
      const res = await runs.updateOne(
        { _id: run.runId, status: 'running' },
        { $set: { ...fields, status: 'committed', cleanup_pending: true } },
      );
      if (res.matchedCount !== 1) {
        throw new ReconError(
          'RECON_STORE_WRITE',
          `run ${run.runId} was no longer running at commit (another process marked it); nothing was published`,
        );
      }
    });
  }

  async supersede(run: RunSummary): Promise<number> {
    return this.guard('remove superseded rows', () =>
      this.supersedeFor({ _id: run.runId, started_at: run.startedAt, coverage: coverageOf(run) }),
    );
  }

  /** A committed run ordered after `run` that covers one of its (source, as-of day) pairs. */
  private async newerCommitted(
    run: RunSummary,
  ): Promise<{ runId: string; source: string | null; asOf: string } | null> {
    const mine = coverageOf(run);
    const candidates = await (
      await this.runs()
    )
      .find(
        { status: 'committed', started_at: { $gte: run.startedAt }, _id: { $ne: run.runId } },
        { projection: { _id: 1, started_at: 1, coverage: 1 } },
      )
      .toArray();
    for (const c of candidates
      .filter((d) => runOrder(d, { _id: run.runId, started_at: run.startedAt }) > 0)
      .sort(runOrder)) {
      const hit = (c.coverage ?? []).find((x) =>
        mine.some((m) => m.source === x.source && m.as_of_date === x.as_of_date),
      );
      if (hit) return { runId: c._id, source: hit.source, asOf: hit.as_of_date };
    }
    return null;
  }

  /**
   * Deletes the rows of runs ordered before `run` for each pair it covers, then clears its flag.
   */
  private async supersedeFor(
    run: Pick<RunDocument, '_id' | 'started_at' | 'coverage'>,
  ): Promise<number> {
    const deleted = !(await this.earlierRowsMayExist(run))
      ? 0
      : await this.deleteRows({
          $and: [
            { $or: run.coverage.map((c) => ({ source: c.source, as_of_date: c.as_of_date })) },
            {
              $or: [
                { reconciliation_date: { $lt: run.started_at } },
                { reconciliation_date: run.started_at, reconciliation_run_id: { $lt: run._id } },
              ],
            },
            { reconciliation_run_id: { $ne: run._id } },
          ],
        });
    await retried(async () =>
      (await this.runs()).updateOne(
        { _id: run._id, status: 'committed' },
        { $unset: { cleanup_pending: '' } },
      ),
    );
    return deleted;
  }

  /**
   * Whether a run ordered before `run` may have rows of a pair it covers: one still running or
   * failed with its rows not yet removed, or a committed one covering one of those pairs (a
   * committed run's rows are all of pairs its coverage lists). A run document is written before
   * any of its rows, so when none qualifies there is nothing to delete, and the scan of the
   * results (a whole-collection scan on FerretDB) is skipped: the first run of a day.
   */
  private async earlierRowsMayExist(
    run: Pick<RunDocument, '_id' | 'started_at' | 'coverage'>,
  ): Promise<boolean> {
    if (run.coverage.length === 0) return false;
    const pairs = new Set(run.coverage.map((c) => JSON.stringify([c.source, c.as_of_date])));
    const earlier = await retried(async () =>
      (await this.runs())
        .find(
          { started_at: { $lte: run.started_at }, _id: { $ne: run._id } },
          { projection: { _id: 1, started_at: 1, status: 1, rows_removed: 1, coverage: 1 } },
        )
        .toArray(),
    );
    return earlier.some((r) => {
      if (runOrder(r, run) >= 0) return false;
      if (r.status !== 'committed') return !(r.status === 'failed' && r.rows_removed === true);
      return (r.coverage ?? []).some((c) => pairs.has(JSON.stringify([c.source, c.as_of_date])));
    });
  }

  /**
   * Deletes every row matching `filter` in bounded ranges of _id of at most DELETE_BATCH rows:
   * FerretDB on SQLite binds a variable per deleted row and refuses one delete of a big day ("too
   * many SQL variables"). One pass over the matching ids (sorted, only every DELETE_BATCH-th kept)
   * finds the range bounds, then one delete per range. Ranges, not `$in` lists: FerretDB scans the
   * whole collection for every query and checks `$in` against the whole list, so the number of
   * queries is what costs: a few range deletes take a few scans, where `$in` lists of ids would
   * take many more.
   */
  private async deleteRows(filter: Filter<ResultDocument>): Promise<number> {
    const results = await this.results();
    return retried(async () => {
      const bounds: ObjectId[] = [];
      let last: ObjectId | null = null;
      let seen = 0;
      for await (const d of results
        .find(filter, { projection: { _id: 1 } })
        .sort({ _id: 1 })
        .batchSize(DELETE_BATCH)) {
        if (seen++ % DELETE_BATCH === 0) bounds.push(d._id);
        last = d._id;
      }
      let deleted = 0;
      for (const [i, from] of bounds.entries()) {
        const range =
          i + 1 < bounds.length ? { $gte: from, $lt: bounds[i + 1] } : { $gte: from, $lte: last! };
        deleted += (await results.deleteMany({ $and: [filter, { _id: range }] })).deletedCount;
      }
      return deleted;
    });
  }

  async fail(run: RunSummary): Promise<'failed' | 'committed'> {
    return this.guard('mark run failed', async () => {
      const runs = await this.runs();
      const { _id: _ignored, ...fields } = runDocument(run);
      const res = await runs.updateOne(
        { _id: run.runId, status: 'running' },
        { $set: { ...fields, status: 'failed' } },
      );
      if (res.matchedCount !== 1) {
        // A commit whose answer was lost may have flipped the run: then it is published, and its
        // rows stay.
        const stored = await runs.findOne({ _id: run.runId }, { projection: { status: 1 } });
        if (stored?.status === 'committed') return 'committed';
      }
      await this.deleteRows({ reconciliation_run_id: run.runId });
      await runs.updateOne({ _id: run.runId, status: 'failed' }, { $set: { rows_removed: true } });
      return 'failed';
    });
  }

  async skip(run: RunSummary): Promise<void> {
    await this.guard('mark run skipped', async () => {
      const { _id: _ignored, ...fields } = runDocument(run);
      await (
        await this.runs()
      ).updateOne(
        { _id: run.runId, status: 'running' },
        { $set: { ...fields, status: 'skipped' } },
      );
    });
  }

  /**
   * Breaks of the latest committed run for `source` on the last as-of day before `asOf`
   * (lifecycle). The day and the run come from the run documents' coverage (a small collection);
   * the results are read only for that run, and not at all when no earlier day was published.
   */
  async previousBreaks(source: string | null, asOf: string): Promise<PreviousBreak[]> {
    return this.guard('read previous breaks', async () => {
      const committed = await (
        await this.runs()
      )
        .find({ status: 'committed' }, { projection: { _id: 1, started_at: 1, coverage: 1 } })
        .toArray();
      let day: string | null = null;
      let latest: Pick<RunDocument, '_id' | 'started_at'> | null = null;
      for (const r of committed)
        for (const c of r.coverage ?? []) {
          if (c.source !== source || c.as_of_date >= asOf) continue;
          if (
            day === null ||
            c.as_of_date > day ||
            (c.as_of_date === day && runOrder(r, latest!) > 0)
          )
            [day, latest] = [c.as_of_date, r];
        }
      if (latest === null) return [];
      const rows = await (
        await this.results()
      )
        .find(
          {
            reconciliation_run_id: latest._id,
            source,
            as_of_date: day!,
            status: { $ne: 'matched' },
          },
          {
            projection: {
              source: 1,
              product_code: 1,
              folio_no: 1,
              status: 1,
              difference: 1,
              first_seen: 1,
              as_of_date: 1,
            },
          },
        )
        .toArray();
      return rows.map(previousBreakOf);
    });
  }

  async committedFileHashes(configHash: string, sha256s: readonly string[]): Promise<Set<string>> {
    return this.guard('look up reconciled files', async () => {
      const runs = await this.runs();
      const found = new Set<string>();
      const docs = await runs
        .find(
          { status: 'committed', config_hash: configHash, file_hashes: { $in: [...sha256s] } },
          { projection: { file_hashes: 1 } },
        )
        .toArray();
      for (const d of docs)
        for (const h of d.file_hashes ?? []) if (sha256s.includes(h)) found.add(h);
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
      throw mongoError(err, 'RECON_STORE_WRITE', `result store: ${what} failed`);
    }
  }
}

/** Total order of runs, as readers use it: started_at, then id. */
function runOrder(
  a: Pick<RunDocument, '_id' | 'started_at'>,
  b: Pick<RunDocument, '_id' | 'started_at'>,
): number {
  return (
    a.started_at.getTime() - b.started_at.getTime() || (a._id < b._id ? -1 : a._id > b._id ? 1 : 0)
  );
}

/** One cleanup step, tried three times with a short backoff: cleanup is idempotent. */
async function retried<T>(fn: () => Promise<T>, attempts = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts || err instanceof ReconError) throw err;
      await new Promise((r) => setTimeout(r, 200 * 2 ** i));
    }
  }
}

function onlyDuplicates(err: MongoBulkWriteError): boolean {
  const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
  return errors.length > 0 && errors.every((e) => e.code === 11000);
}
