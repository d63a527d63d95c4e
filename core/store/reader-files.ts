/**
 * ResultReader over the files store: `runs/<id>/run.json` and `results.csv` of committed runs,
 * `failed/<id>.json`, and `notes.ndjson` (one note a line, appended). It reads whole files: the
 * files store is for offline runs and the demo, where a day's results fit in a folder.
 */
import { createReadStream } from 'node:fs';
import { appendFile, mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse';
import type { PreviousBreak } from '../breaks/lifecycle.js';
import type { BreakNote } from '../breaks/notes.js';
import type { ResultDocument, RunDocument } from './documents.js';
import { latestPerDay, resolvedDaysOf, resolvedIndex } from './reader-mongodb.js';
import { previousBreakOf, type BreakIdentity, type ResultReader } from './reader.js';

const NUMBERS = new Set([
  'dbf_units',
  'mongo_units',
  'difference',
  'dbf_rows',
  'age_days',
  'nav',
  'value',
]);
const OPTIONAL = new Set(['first_seen', 'lifecycle']);

export class FilesReader implements ResultReader {
  constructor(private readonly dir: string) {}

  private get notesFile(): string {
    return join(this.dir, 'notes.ndjson');
  }

  /** Committed runs (newest first); with failed ones too when asked. */
  private async allRuns(withFailed: boolean): Promise<RunDocument[]> {
    const out: RunDocument[] = [];
    for (const id of await list(join(this.dir, 'runs'))) {
      if (id.startsWith('.')) continue;
      const doc = await readRun(join(this.dir, 'runs', id, 'run.json'));
      if (doc && doc.status === 'committed') out.push(doc);
    }
    if (withFailed) {
      for (const name of await list(join(this.dir, 'failed'))) {
        const doc = name.endsWith('.json') ? await readRun(join(this.dir, 'failed', name)) : null;
        if (doc) out.push(doc);
      }
    }
    return out.sort((a, b) => b.started_at.getTime() - a.started_at.getTime());
  }

  async runs(limit: number): Promise<RunDocument[]> {
    return (await this.allRuns(true)).slice(0, limit);
  }

  async committedRun(select: { runId?: string; asOf?: string }): Promise<RunDocument | null> {
    const runs = await this.allRuns(select.runId !== undefined);
    if (select.runId) return runs.find((r) => r._id === select.runId) ?? null;
    return (
      runs.find(
        (r) => select.asOf === undefined || r.coverage.some((c) => c.as_of_date === select.asOf),
      ) ?? null
    );
  }

  async recentCommitted(limit: number): Promise<RunDocument[]> {
    return (await this.allRuns(false)).slice(0, limit);
  }

  async *breakRows(runId: string): AsyncGenerator<ResultDocument> {
    for await (const row of this.rows(runId)) if (row.status !== 'matched') yield row;
  }

  async breakDays(id: BreakIdentity): Promise<ResultDocument[]> {
    const rows: ResultDocument[] = [];
    for (const run of await this.allRuns(false)) {
      for await (const r of this.rows(run._id)) {
        if (
          r.status !== 'matched' &&
          r.source === id.source &&
          r.product_code === id.productCode &&
          r.folio_no === id.folio
        )
          rows.push(r);
      }
    }
    return latestPerDay(rows);
  }

  async resolvedBefore(asOf: string): Promise<Map<string, string>> {
    return resolvedIndex(await this.allRuns(false), asOf);
  }

  async resolvedDays(id: BreakIdentity): Promise<string[]> {
    return resolvedDaysOf(await this.allRuns(false), id);
  }

  /**
   * Breaks of the latest committed run for `source` on the last as-of day before `asOf`
   * (lifecycle).
   */
  async previousBreaks(source: string | null, asOf: string): Promise<PreviousBreak[]> {
    const runs = await this.allRuns(false);
    let day: string | null = null;
    for (const r of runs)
      for (const c of r.coverage)
        if (c.source === source && c.as_of_date < asOf && (day === null || c.as_of_date > day))
          day = c.as_of_date;
    const run =
      day === null
        ? undefined
        : runs.find((r) => r.coverage.some((c) => c.source === source && c.as_of_date === day));
    if (!run) return [];
    const out: PreviousBreak[] = [];
    for await (const r of this.rows(run._id)) {
      if (r.status === 'matched' || r.source !== source || r.as_of_date !== day) continue;
      out.push(previousBreakOf(r));
    }
    return out;
  }

  async addNote(note: BreakNote): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    // One appended line per note: a reader never sees half of one.
    await appendFile(this.notesFile, JSON.stringify(note) + '\n');
  }

  async notes(id?: BreakIdentity): Promise<BreakNote[]> {
    let text: string;
    try {
      text = await readFile(this.notesFile, 'utf8');
    } catch {
      return [];
    }
    const out: BreakNote[] = [];
    for (const line of text.split('\n')) {
      if (line.trim().length === 0) continue;
      const n = JSON.parse(line) as BreakNote & { at: string };
      if (
        id &&
        (n.source !== id.source || n.product_code !== id.productCode || n.folio_no !== id.folio)
      )
        continue;
      out.push({ ...n, at: new Date(n.at) });
    }
    return out.sort((a, b) => a.at.getTime() - b.at.getTime());
  }

  /** The rows of a committed run's results.csv, typed back. */
  private async *rows(runId: string): AsyncGenerator<ResultDocument> {
    const parser = createReadStream(join(this.dir, 'runs', runId, 'results.csv')).pipe(
      parse({ columns: true }),
    );
    for await (const rec of parser as AsyncIterable<Record<string, string>>) yield typed(rec);
  }
}

function typed(rec: Record<string, string>): ResultDocument {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rec)) {
    if (OPTIONAL.has(k) && v === '') continue;
    if (k === 'reconciliation_date') out[k] = new Date(v);
    else if (NUMBERS.has(k)) out[k] = v === '' ? null : Number(v);
    else if (k === 'reason_detail') out[k] = v === '' ? null : JSON.parse(v);
    else if (k === 'immaterial') out[k] = v === 'true';
    else out[k] = v === '' && k !== 'product_code' && k !== 'folio_no' ? null : v;
  }
  return out as unknown as ResultDocument;
}

async function list(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}

async function readRun(path: string): Promise<RunDocument | null> {
  try {
    const doc = JSON.parse(await readFile(path, 'utf8')) as RunDocument & {
      started_at: string;
      finished_at: string | null;
      reconciliation_date: string;
    };
    return {
      ...doc,
      started_at: new Date(doc.started_at),
      finished_at: doc.finished_at ? new Date(doc.finished_at) : null,
      reconciliation_date: new Date(doc.reconciliation_date),
    };
  } catch {
    return null; // a folder without a readable run.json is not a committed run
  }
}
