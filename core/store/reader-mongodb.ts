/**
 * ResultReader over the MongoDB store; notes live in their own collection, indexed on the break
 * identity.
 */
import type { Collection } from 'mongodb';
import { breakId } from '../breaks/lifecycle.js';
import type { BreakNote } from '../breaks/notes.js';
import { mongoError } from '../mongo-client.js';
import type { ResultDocument, RunDocument } from './documents.js';
import { StoreCollections } from './mongodb.js';
import type { BreakIdentity, ResultReader } from './reader.js';

export interface MongoReaderOptions {
  uri: string;
  database: string;
  results: string;
  runs: string;
  notes: string;
}

export class MongoReader implements ResultReader {
  private notesIndexed = false;
  private readonly store: StoreCollections;

  constructor(private readonly options: MongoReaderOptions) {
    this.store = new StoreCollections(options.uri, options.database, options);
  }

  private runsCol(): Promise<Collection<RunDocument>> {
    return this.store.runs();
  }

  private resultsCol(): Promise<Collection<ResultDocument>> {
    return this.store.results();
  }

  private async notesCol(): Promise<Collection<BreakNote>> {
    const col = (await this.store.db()).collection<BreakNote>(this.options.notes);
    if (!this.notesIndexed) {
      await col.createIndex(
        { source: 1, product_code: 1, folio_no: 1, at: 1 },
        { name: 'break_identity' },
      );
      this.notesIndexed = true;
    }
    return col;
  }

  runs(limit: number): Promise<RunDocument[]> {
    return this.guard(async () =>
      (await this.runsCol()).find({}).sort({ started_at: -1 }).limit(limit).toArray(),
    );
  }

  committedRun(select: { runId?: string; asOf?: string }): Promise<RunDocument | null> {
    return this.guard(async () => {
      const runs = await this.runsCol();
      if (select.runId) return runs.findOne({ _id: select.runId });
      const filter = select.asOf
        ? { status: 'committed', 'coverage.as_of_date': select.asOf }
        : { status: 'committed' };
      return (await runs.find(filter).sort({ started_at: -1 }).limit(1).toArray())[0] ?? null;
    });
  }

  recentCommitted(limit: number): Promise<RunDocument[]> {
    return this.guard(async () =>
      (await this.runsCol())
        .find({ status: 'committed' })
        .sort({ started_at: -1 })
        .limit(limit)
        .toArray(),
    );
  }

  async *breakRows(runId: string): AsyncGenerator<ResultDocument> {
    const cursor = await this.guard(async () =>
      (await this.resultsCol()).find(
        { reconciliation_run_id: runId, status: { $ne: 'matched' } },
        { projection: { _id: 0 } },
      ),
    );
    try {
      const next = () => this.guard(() => cursor.next());
      for (let row = await next(); row !== null; row = await next()) yield row;
    } finally {
      await cursor.close();
    }
  }

  breakDays(id: BreakIdentity): Promise<ResultDocument[]> {
    return this.guard(async () => {
      const rows = await (
        await this.resultsCol()
      )
        .find(
          {
            source: id.source,
            product_code: id.productCode,
            folio_no: id.folio,
            status: { $ne: 'matched' },
          },
          { projection: { _id: 0 } },
        )
        .toArray();
      const runIds = [...new Set(rows.map((r) => r.reconciliation_run_id))];
      const committed = new Set(
        (
          await (
            await this.runsCol()
          )
            .find({ _id: { $in: runIds }, status: 'committed' }, { projection: { _id: 1 } })
            .toArray()
        ).map((r) => r._id),
      );
      return latestPerDay(rows.filter((r) => committed.has(r.reconciliation_run_id)));
    });
  }

  resolvedBefore(asOf: string): Promise<Map<string, string>> {
    return this.guard(async () => {
      const runs = await (
        await this.runsCol()
      )
        .find({ status: 'committed' }, { projection: { breaks: 1 } })
        .toArray();
      return resolvedIndex(runs, asOf);
    });
  }

  resolvedDays(id: BreakIdentity): Promise<string[]> {
    return this.guard(async () =>
      resolvedDaysOf(
        await (
          await this.runsCol()
        )
          .find({ status: 'committed' }, { projection: { breaks: 1 } })
          .toArray(),
        id,
      ),
    );
  }

  addNote(note: BreakNote): Promise<void> {
    return this.guard(async () => {
      await (await this.notesCol()).insertOne({ ...note });
    });
  }

  notes(id?: BreakIdentity): Promise<BreakNote[]> {
    return this.guard(async () => {
      const filter = id
        ? { source: id.source, product_code: id.productCode, folio_no: id.folio }
        : {};
      return (await this.notesCol())
        .find(filter, { projection: { _id: 0 } })
        .sort({ at: 1 })
        .toArray();
    });
  }

  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw mongoError(err, 'RECON_STORE_WRITE', 'result store: read failed');
    }
  }
}

/** One row per as-of day: the one of the latest run (rows come from committed runs only). */
export function latestPerDay(rows: readonly ResultDocument[]): ResultDocument[] {
  const byDay = new Map<string, ResultDocument>();
  for (const r of rows) {
    const had = byDay.get(r.as_of_date);
    if (
      !had ||
      new Date(r.reconciliation_date).getTime() > new Date(had.reconciliation_date).getTime()
    )
      byDay.set(r.as_of_date, r);
  }
  return [...byDay.values()].sort((a, b) => a.as_of_date.localeCompare(b.as_of_date));
}

/** The days runs listed one break as resolved on, oldest first, each once. */
export function resolvedDaysOf(
  runs: readonly Pick<RunDocument, 'breaks'>[],
  id: BreakIdentity,
): string[] {
  const days = new Set<string>();
  for (const r of runs) {
    for (const b of r.breaks?.resolved ?? [])
      if (b.source === id.source && b.product_code === id.productCode && b.folio_no === id.folio)
        days.add(b.resolved_on);
  }
  return [...days].sort();
}

/** Break id → the latest day before `asOf` that a committed run resolved it on. */
export function resolvedIndex(
  runs: readonly Pick<RunDocument, 'breaks'>[],
  asOf: string,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of runs) {
    for (const b of r.breaks?.resolved ?? []) {
      if (b.resolved_on >= asOf) continue;
      const id = breakId(b.source, b.product_code, b.folio_no);
      const had = out.get(id);
      if (had === undefined || had < b.resolved_on) out.set(id, b.resolved_on);
    }
  }
  return out;
}
