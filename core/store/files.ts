/**
 * Offline result store: a folder per run with results.csv and run.json. Rows go to a hidden
 * `.partial` folder first; commit renames it into place (atomic on one filesystem), so a reader
 * never sees half a run. A failed run leaves only `failed/<run id>.json`.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { ReconError } from '../errors.js';
import type { ReconRow } from '../reconcile.js';
import { resultDocument, runDocument, type ResultDocument } from './documents.js';
import type { PreviousBreak } from '../breaks/lifecycle.js';
import type { ResultStore, RunSummary, TidyReport } from './types.js';
import { FilesReader } from './reader-files.js';

/** results.csv columns; the break columns are empty on matched rows. */
export const COLUMNS: (keyof ResultDocument)[] = [
  'reconciliation_run_id',
  'reconciliation_date',
  'as_of_date',
  'source',
  'status',
  'product_code',
  'folio_no',
  'scheme_name',
  'dbf_units',
  'mongo_units',
  'difference',
  'dbf_rows',
  'first_seen',
  'age_days',
  'lifecycle',
  'reopened_after',
  'reason',
  'reason_detail',
  'nav',
  'nav_source',
  'value',
  'immaterial',
];

export class FileStore implements ResultStore {
  private csv: WriteStream | null = null;

  constructor(private readonly dir: string) {}

  private partial(run: RunSummary): string {
    return join(this.dir, 'runs', `.${run.runId}.partial`);
  }

  /** Where a committed run's files are. */
  runDir(runId: string): string {
    return join(this.dir, 'runs', runId);
  }

  async begin(run: RunSummary): Promise<void> {
    const dir = this.partial(run);
    await mkdir(dir, { recursive: true });
    this.csv = createWriteStream(join(dir, 'results.csv'));
    this.csv.write(COLUMNS.join(',') + '\n');
  }

  async writeRows(run: RunSummary, rows: readonly ReconRow[]): Promise<void> {
    if (!this.csv) throw new ReconError('RECON_INTERNAL', 'file store: writeRows before begin');
    for (const row of rows) {
      const doc = resultDocument(run, row);
      const line = COLUMNS.map((c) => csvCell(doc[c])).join(',') + '\n';
      if (!this.csv.write(line)) await once(this.csv, 'drain');
    }
  }

  async commit(run: RunSummary): Promise<void> {
    await this.endCsv();
    const dir = this.partial(run);
    await writeFile(
      join(dir, 'run.json'),
      JSON.stringify({ ...runDocument(run), status: 'committed' }, null, 2) + '\n',
    );
    await rename(dir, this.runDir(run.runId));
  }

  /** Runs are folders: nothing is superseded in place and nothing is left to tidy. */
  async tidy(): Promise<TidyReport> {
    return { failedRuns: 0, pendingCleanups: 0, rowsDeleted: 0 };
  }

  async supersede(): Promise<number> {
    return 0;
  }

  async fail(run: RunSummary): Promise<'failed'> {
    await this.endCsv().catch(() => undefined);
    await rm(this.partial(run), { recursive: true, force: true });
    await mkdir(join(this.dir, 'failed'), { recursive: true });
    await writeFile(
      join(this.dir, 'failed', `${run.runId}.json`),
      JSON.stringify({ ...runDocument(run), status: 'failed' }, null, 2) + '\n',
    );
    return 'failed';
  }

  async skip(run: RunSummary): Promise<void> {
    await this.endCsv().catch(() => undefined);
    await rm(this.partial(run), { recursive: true, force: true });
  }

  async previousBreaks(source: string | null, asOf: string): Promise<PreviousBreak[]> {
    return new FilesReader(this.dir).previousBreaks(source, asOf);
  }

  async committedFileHashes(configHash: string, sha256s: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    let entries: string[];
    try {
      entries = await readdir(join(this.dir, 'runs'));
    } catch {
      return found;
    }
    for (const id of entries) {
      if (id.startsWith('.')) continue;
      try {
        const doc = JSON.parse(await readFile(join(this.dir, 'runs', id, 'run.json'), 'utf8')) as {
          status: string;
          config_hash: string;
          file_hashes?: string[];
        };
        if (doc.status !== 'committed' || doc.config_hash !== configHash) continue;
        for (const h of doc.file_hashes ?? []) if (sha256s.includes(h)) found.add(h);
      } catch {
        // A folder without a readable run.json is not a committed run.
      }
    }
    return found;
  }

  async close(): Promise<void> {
    await this.endCsv().catch(() => undefined);
  }

  private async endCsv(): Promise<void> {
    const csv = this.csv;
    this.csv = null;
    if (csv)
      await new Promise<void>((resolve, reject) =>
        csv.end((err?: Error | null) => (err ? reject(err) : resolve())),
      );
  }
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  // Numbers and booleans never need quoting: skip the scan (a bad day writes millions of cells).
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text =
    value instanceof Date
      ? value.toISOString()
      : typeof value === 'object'
        ? JSON.stringify(value)
        : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
