/**
 * Offline result store: a folder per run with results.csv and run.json. Rows go to a hidden
 * `.partial` folder first; commit renames it into place (atomic on one filesystem), so a reader
 * never sees half a run. A failed run leaves only `failed/<run id>.json`.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { csvCell, CsvWriter } from '../csv.js';
import { ReconError } from '../errors.js';
import { SCALE_DIGITS, unitsToNumber } from '../fixed-point.js';
import type { ReconRow } from '../reconcile.js';
import { runDocument, type ResultDocument } from './documents.js';
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

/**
 * results.csv of a bad day is gigabytes: written 4 MiB at a time (a quarter of the writes, each a
 * trip to a pool thread, of the writer's default).
 */
const RESULTS_CHUNK_BYTES = 4 << 20;

export class FileStore implements ResultStore {
  /** Lines are formatted into the chunk as rows come: a batch would only be held for nothing. */
  readonly rowsPerBatch = 256;
  private csv: CsvWriter | null = null;
  private cells = new LineCells(new Uint8Array(0));

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
    this.csv = new CsvWriter(createWriteStream(join(dir, 'results.csv')), RESULTS_CHUNK_BYTES);
    this.csv.write(COLUMNS.join(',') + '\n');
    this.cells = new LineCells(
      Buffer.from(`${csvCell(run.runId)},${run.startedAt.toISOString()},`),
    );
  }

  async writeRows(run: RunSummary, rows: readonly ReconRow[]): Promise<void> {
    if (!this.csv) throw new ReconError('RECON_INTERNAL', 'file store: writeRows before begin');
    for (const row of rows) {
      writeResultCells(this.csv, row, this.cells);
      if (this.csv.full) await this.csv.flush();
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
    if (csv) await csv.end();
  }
}

/** The break cells of a matched row, all empty. */
const MATCHED_TAIL = ','.repeat(COLUMNS.length - COLUMNS.indexOf('first_seen'));

const UNSEEN = Symbol('unseen');
const FILE_CELL = Buffer.from('file,');
const TRUE_CELL = Buffer.from('true,');
const FALSE_CELL = Buffer.from('false,');

/**
 * The bytes of a run of cells, kept while the values they were written from repeat (compared as
 * the same strings and numbers, never encoded again).
 */
class RepeatedCells {
  private keys: unknown[] = [UNSEEN, UNSEEN, UNSEEN, UNSEEN];
  private bytes: Uint8Array = new Uint8Array(0);

  /** @param lead bytes that always come first */
  constructor(private readonly lead: Uint8Array = new Uint8Array(0)) {}

  /** The cells `cells` writes of `row`, which depend on a, b, c and d alone. */
  write(
    csv: CsvWriter,
    row: ReconRow,
    cells: (csv: CsvWriter, row: ReconRow) => void,
    a: unknown,
    b: unknown,
    c: unknown,
    d: unknown,
  ): void {
    const k = this.keys;
    if (k[0] === a && k[1] === b && k[2] === c && k[3] === d) return csv.bytes(this.bytes);
    const at = csv.mark();
    csv.bytes(this.lead);
    cells(csv, row);
    this.bytes = csv.since(at);
    this.keys = [a, b, c, d];
  }
}

/**
 * What repeats from line to line: the run id and date, day, source and status; an unexplained
 * break's first-seen, age and lifecycle. A bad day writes millions of lines, most of whose cells
 * are the line before's.
 */
class LineCells {
  readonly head: RepeatedCells;
  readonly age = new RepeatedCells();

  /** @param linePrefix the run id and date cells, the same on every line of a run */
  constructor(linePrefix: Uint8Array) {
    this.head = new RepeatedCells(linePrefix);
  }
}

function headCells(csv: CsvWriter, row: ReconRow): void {
  csv.text(row.asOf);
  csv.text(row.source);
  csv.text(row.status);
}

function ageCells(csv: CsvWriter, row: ReconRow): void {
  const r = row.reason;
  csv.text(row.firstSeen);
  csv.value(row.ageDays);
  csv.text(row.lifecycle);
  csv.text(row.reopenedAfter);
  csv.text(r?.code);
  if (r) csv.value(reasonDetail(r));
  else csv.empty();
}

/**
 * A result row's cells after the run id and date: the cells of its stored document
 * (`resultDocument`) as `csvCell` writes them, without building the document (a bad day writes
 * millions of lines).
 */
function writeResultCells(csv: CsvWriter, row: ReconRow, cells: LineCells): void {
  const d = row.decimals;
  cells.head.write(csv, row, headCells, row.asOf, row.source, row.status, 0);
  csv.text(row.productCode);
  csv.text(row.folio);
  csv.text(row.schemeName);
  const dbfUnitsAt = csv.mark();
  if (row.dbfUnits === null) csv.empty();
  else writeUnits(csv, row.dbfUnits, d);
  const dbfUnitsEnd = csv.mark();
  if (row.mongoUnits === null) csv.empty();
  else writeUnits(csv, row.mongoUnits, d);
  // A file row's difference is minus its units when the ledger has none: the cell is theirs,
  // negated (the rounding is symmetric), not formatted again.
  if (
    row.mongoUnits === null &&
    row.dbfUnits !== null &&
    Number.isSafeInteger(row.dbfUnits) &&
    row.difference === -row.dbfUnits
  )
    csv.negated(dbfUnitsAt, dbfUnitsEnd);
  else writeUnits(csv, row.difference, d);
  csv.number(row.dbfRows);
  if (row.status === 'matched') {
    csv.write(MATCHED_TAIL);
    return csv.endLine();
  }
  // A reason's cells are its own: only lines without one share theirs.
  if (row.reason) ageCells(csv, row);
  else
    cells.age.write(
      csv,
      row,
      ageCells,
      row.firstSeen,
      row.ageDays,
      row.lifecycle,
      row.reopenedAfter,
    );
  if (row.nav === null || row.nav === undefined) csv.empty();
  else writeUnits(csv, row.nav, SCALE_DIGITS);
  if (row.navSource === 'file') csv.bytes(FILE_CELL);
  else csv.text(row.navSource);
  // Stored rupees are paise / 100.
  if (row.valuePaise === null || row.valuePaise === undefined) csv.empty();
  else csv.decimal(row.valuePaise, 2);
  csv.bytes(row.immaterial === true ? TRUE_CELL : FALSE_CELL);
  csv.endLine();
}

function reasonDetail(r: NonNullable<ReconRow['reason']>): ResultDocument['reason_detail'] {
  return {
    ...(r.transactionIds ? { transaction_ids: r.transactionIds } : {}),
    ...(r.pair ? { pair: { product_code: r.pair.productCode, folio_no: r.pair.folio } } : {}),
  };
}

/** 10^(SCALE_DIGITS - d): ten-thousandths per last place of `d` decimals. */
const STEPS = Array.from({ length: SCALE_DIGITS + 1 }, (_, d) => 10 ** (SCALE_DIGITS - d));

/**
 * `unitsToNumber(units, decimals)` as a cell, from the integer: rounded half away from zero to
 * `decimals` places.
 */

export function writeUnits(csv: CsvWriter, units: number, decimals: number): void {
  if (!Number.isSafeInteger(units)) return csv.number(unitsToNumber(units, decimals));
  const d = Math.max(0, Math.min(SCALE_DIGITS, decimals));
  const step = STEPS[d];
  const rounded = Math.floor((Math.abs(units) + step / 2) / step);
  csv.decimal(units < 0 ? -rounded : rounded, d);
}
