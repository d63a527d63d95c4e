import type { CodePageOrigin } from '../dbf/code-pages.js';
import type { EvidenceProblems } from '../dbf/decoder.js';
import type { SerializedError } from '../errors.js';
import type { LifecycleSummary, PreviousBreak } from '../breaks/lifecycle.js';
import type { ReconRow, StatusCounts } from '../reconcile.js';
import type { ValueGroup } from '../breaks/value.js';

/** One source file as the run saw it. */
export interface FileRecord {
  name: string;
  size: number;
  sha256: string;
  /** Records read: the declared count, or with `recordCount: present` the records present. */
  records: number;
  deleted: number;
  asOf: string | null;
  /** The header's record count and the complete records the file's size holds. */
  declaredRecords: number;
  presentRecords: number;
  /** The code page text was decoded with, where it came from, and the header's language driver. */
  codePage: { encoding: string; origin: CodePageOrigin; languageDriver: string; note?: string };
  /** Optional evidence values that could not be read (left absent), with a few samples. */
  evidence: EvidenceProblems;
}

export interface SourceSummary {
  plugin: string;
  asOf: string | null;
  files: FileRecord[];
  /** Non-deleted records read. */
  rows: number;
  deleted: number;
  keys: number;
  counts: StatusCounts;
  /** Wall time to decode this source's files in the pool (ms). */
  decodeMs?: number;
  /**
   * Live rows whose NAV was blank, zero or unreadable (evidence missing; those breaks use the
   * ledger's NAV).
   */
  navMissing?: number;
}

export interface LedgerSummary {
  asOf: string;
  cutoff: string;
  transactions: number;
  positions: number;
  missingKey: number;
  nonNumericUnits: number;
  badDate: number;
  samples: string[];
  ignoredTypes: Record<string, number>;
}

export type RunStatus = 'running' | 'committed' | 'failed' | 'skipped';

/** Everything the run document holds and the CLI prints. */
export interface RunSummary {
  runId: string;
  status: RunStatus;
  startedAt: Date;
  finishedAt: Date | null;
  timezone: string;
  tolerance: number;
  /** Hash of the settings that change results (for "already reconciled" checks). */
  configHash: string;
  /** Names of the sources this run covers; mongo_only of unknown owner only when it covers all. */
  sourceNames: string[];
  allSources: boolean;
  /** Sources whose files a committed run with the same config already reconciled. */
  skippedSources?: string[];
  sources: Record<string, SourceSummary>;
  ledger: LedgerSummary[];
  counts: StatusCounts;
  /** Ledger positions that net to zero and no file lists. */
  closedPositions: number;
  /** Break lifecycle against the previous committed run of an earlier day. */
  breaks?: LifecycleSummary;
  /** Break value per (source, status, reason), integer paise. */
  values?: ValueGroup[];
  /** Breaks whose value is below `reconcile.materiality`. */
  immaterial?: number;
  timingsMs: Record<string, number>;
  error: SerializedError | null;
}

/** What `tidy` finished for earlier runs. */
export interface TidyReport {
  failedRuns: number;
  pendingCleanups: number;
  rowsDeleted: number;
}

/**
 * Write-then-publish. `begin` records the run as running; `writeRows` may be called many times and
 * is safe to retry; only `commit` makes the run visible (or throws RECON_SUPERSEDED when a later
 * run already published the same day). `supersede` is cleanup after the commit: it removes earlier
 * results for the same (source, as-of day) and may fail without unpublishing anything; `tidy`
 * finishes what earlier runs left (superseded rows, rows of failed runs). `fail` marks the run
 * failed and removes its rows, unless the run turns out committed (a commit whose answer was lost),
 * which it reports instead.
 */
export interface ResultStore {
  /**
   * Rows to gather before each `writeRows` (default 10,000). A store that formats rows as they
   * come wants few: a batch held is live memory the collector copies, millions of times a bad day.
   */
  readonly rowsPerBatch?: number;
  begin(run: RunSummary): Promise<void>;
  tidy(): Promise<TidyReport>;
  writeRows(run: RunSummary, rows: readonly ReconRow[]): Promise<void>;
  commit(run: RunSummary): Promise<void>;
  /** Rows of earlier runs removed. */
  supersede(run: RunSummary): Promise<number>;
  fail(run: RunSummary): Promise<'failed' | 'committed'>;
  /** Marks a run that found nothing new (every file already reconciled): nothing is published. */
  skip(run: RunSummary): Promise<void>;
  /** Breaks of the latest committed run for `source` on the last as-of day before `asOf`. */
  previousBreaks(source: string | null, asOf: string): Promise<PreviousBreak[]>;
  /** Which of these file hashes belong to a committed run with this config hash. */
  committedFileHashes(configHash: string, sha256s: readonly string[]): Promise<Set<string>>;
  close(): Promise<void>;
}
