/**
 * Reading what the stores hold, for people: runs, the breaks of a committed run, one break's days,
 * and the notes that follow breaks. One interface over the MongoDB store and the files store, so
 * `recon report`, `runs`, `breaks` and the engine's reopened check work the same on both.
 */
import { resolvePath } from '../../config/load.js';
import type { ReconConfig } from '../../config/schema.js';
import type { PreviousBreak } from '../breaks/lifecycle.js';
import type { BreakNote } from '../breaks/notes.js';
import type { ResultDocument, RunDocument } from './documents.js';
import { FilesReader } from './reader-files.js';
import { MongoReader, type MongoReaderOptions } from './reader-mongodb.js';

export interface BreakIdentity {
  source: string | null;
  productCode: string;
  folio: string;
}

export interface ResultReader {
  /** Recent runs of any status, newest first. */
  runs(limit: number): Promise<RunDocument[]>;
  /** A run by id, or the latest committed run (for an as-of day). */
  committedRun(select: { runId?: string; asOf?: string }): Promise<RunDocument | null>;
  /** The latest committed runs, newest first. */
  recentCommitted(limit: number): Promise<RunDocument[]>;
  /** Non-matched rows of a run, streamed (a cursor, never the whole run in memory). */
  breakRows(runId: string): AsyncIterable<ResultDocument>;
  /** A break's rows across as-of days (the latest committed run of each day), oldest first. */
  breakDays(id: BreakIdentity): Promise<ResultDocument[]>;
  /** For every break resolved before `asOf`: the latest day it was resolved on, by break id. */
  resolvedBefore(asOf: string): Promise<Map<string, string>>;
  /** The days committed runs listed this break as resolved on, oldest first. */
  resolvedDays(id: BreakIdentity): Promise<string[]>;
  addNote(note: BreakNote): Promise<void>;
  /** Every note (a desk writes a few a day), or one break's, oldest first. */
  notes(id?: BreakIdentity): Promise<BreakNote[]>;
}

export function createReader(config: ReconConfig, baseDir: string): ResultReader {
  const target = storeTarget(config, baseDir);
  if (target.type === 'files') return new FilesReader(target.dir);
  return new MongoReader(target);
}

/** Where the configured store keeps its data: a folder, or a database and its collections. */
export function storeTarget(
  config: ReconConfig,
  baseDir: string,
):
  | { type: 'files'; dir: string }
  | ({ type: 'mongodb' } & MongoReaderOptions & { batchSize: number; staleAfterMs: number }) {
  const s = config.store;
  if (s.type === 'files') return { type: 'files', dir: resolvePath(baseDir, s.dir) };
  return {
    type: 'mongodb',
    uri: s.uri,
    database: s.database,
    results: s.collections?.results ?? 'reconciliation_results',
    runs: s.collections?.runs ?? 'reconciliation_runs',
    notes: s.collections?.notes ?? 'break_notes',
    batchSize: s.batchSize ?? 1000,
    staleAfterMs: (s.staleAfterMinutes ?? 360) * 60_000,
  };
}

/** A stored break as the next day's lifecycle sees it. */
export function previousBreakOf(r: ResultDocument): PreviousBreak {
  return {
    source: r.source,
    productCode: r.product_code,
    folio: r.folio_no,
    status: r.status,
    difference: r.difference,
    firstSeen: r.first_seen ?? r.as_of_date,
    asOf: r.as_of_date,
  };
}
