/**
 * Stored shapes: result rows and run documents. Result field names are read by existing consumers:
 * keep them. Units are numbers rounded to the source's decimals; the exact integers stay inside the
 * engine.
 */
import {
  paiseToRupees,
  storedPaise,
  type StoredPaise,
  type ValueGroup,
  type ValueGroupCounts,
} from '../breaks/value.js';
import { unitsToNumber } from '../fixed-point.js';
import type { ReconRow } from '../reconcile.js';
import type { RunSummary } from './types.js';

export interface ResultDocument {
  reconciliation_run_id: string;
  reconciliation_date: Date;
  as_of_date: string;
  source: string | null;
  status: string;
  product_code: string;
  folio_no: string;
  scheme_name: string | null;
  dbf_units: number | null;
  mongo_units: number | null;
  difference: number;
  dbf_rows: number;
  /** Non-matched rows only: break ageing and the first explanation to check. */
  first_seen?: string;
  age_days?: number;
  lifecycle?: string;
  reason?: string | null;
  reason_detail?: {
    transaction_ids?: string[];
    pair?: { product_code: string; folio_no: string };
  } | null;
  /** A reopened break: the day it had last been resolved on. */
  reopened_after?: string | null;
  /**
   * NAV it was valued at (rupees, 4 decimals) and where from (`file`, `ledger`); null when none.
   */
  nav?: number | null;
  nav_source?: string | null;
  /** difference × NAV in rupees, exact to the paisa, signed like difference; null without a NAV. */
  value?: number | null;
  immaterial?: boolean;
}

export function resultDocument(run: RunSummary, row: ReconRow): ResultDocument {
  return {
    reconciliation_run_id: run.runId,
    reconciliation_date: run.startedAt,
    as_of_date: row.asOf,
    source: row.source,
    status: row.status,
    product_code: row.productCode,
    folio_no: row.folio,
    scheme_name: row.schemeName,
    dbf_units: row.dbfUnits === null ? null : unitsToNumber(row.dbfUnits, row.decimals),
    mongo_units: row.mongoUnits === null ? null : unitsToNumber(row.mongoUnits, row.decimals),
    difference: unitsToNumber(row.difference, row.decimals),
    dbf_rows: row.dbfRows,
    ...(row.status === 'matched'
      ? {}
      : {
          first_seen: row.firstSeen,
          age_days: row.ageDays,
          lifecycle: row.lifecycle,
          reason: row.reason?.code ?? null,
          reason_detail: row.reason
            ? {
                ...(row.reason.transactionIds
                  ? { transaction_ids: row.reason.transactionIds }
                  : {}),
                ...(row.reason.pair
                  ? {
                      pair: {
                        product_code: row.reason.pair.productCode,
                        folio_no: row.reason.pair.folio,
                      },
                    }
                  : {}),
              }
            : null,
          reopened_after: row.reopenedAfter ?? null,
          nav: row.nav === null || row.nav === undefined ? null : unitsToNumber(row.nav, 4),
          nav_source: row.navSource ?? null,
          value:
            row.valuePaise === null || row.valuePaise === undefined
              ? null
              : paiseToRupees(row.valuePaise),
          immaterial: row.immaterial === true,
        }),
  };
}

export interface RunDocument {
  _id: string;
  run_id: string;
  status: string;
  started_at: Date;
  finished_at: Date | null;
  reconciliation_date: Date;
  timezone: string;
  tolerance: number;
  config_hash: string;
  source_names: string[];
  all_sources: boolean;
  /** (source, as-of day) pairs this run publishes; what it supersedes when committed. */
  coverage: { source: string | null; as_of_date: string }[];
  /** sha256 of every file reconciled, to recognise a file already done. */
  file_hashes: string[];
  skipped_sources: string[];
  sources: Record<string, unknown>;
  ledger: unknown[];
  counts: Record<string, number>;
  closed_positions: number;
  /**
   * Break value per (source, status, reason) in integer paise: a number while it is a safe
   * integer, else its exact decimal text.
   */
  values: (ValueGroupCounts & { gross_paise: StoredPaise; net_paise: StoredPaise })[];
  immaterial: number;
  breaks: {
    new: number;
    persisting: number;
    changed: number;
    reopened: number;
    resolved_count: number;
    /**
     * The first RESOLVED_LISTED resolved breaks: a run document must stay under MongoDB's 16 MB.
     */
    resolved: {
      source: string | null;
      product_code: string;
      folio_no: string;
      status: string;
      first_seen: string;
      resolved_on: string;
    }[];
  } | null;
  timings_ms: Record<string, number>;
  error: unknown;
  /** Committed, but rows of earlier runs it supersedes may remain: a later run removes them. */
  cleanup_pending?: boolean;
  /** Failed, and its rows are removed. */
  rows_removed?: boolean;
}

export function coverageOf(run: RunSummary): { source: string | null; as_of_date: string }[] {
  const out: { source: string | null; as_of_date: string }[] = [];
  const days: string[] = [];
  for (const [name, s] of Object.entries(run.sources)) {
    if (s.asOf !== null) {
      out.push({ source: name, as_of_date: s.asOf });
      days.push(s.asOf);
    }
  }
  if (run.allSources && days.length > 0)
    out.push({ source: null, as_of_date: days.sort().at(-1)! });
  return out;
}

/** How many resolved breaks a run document lists (the count is always complete). */
export const RESOLVED_LISTED = 10_000;

export function runDocument(run: RunSummary): RunDocument {
  const sources: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(run.sources)) {
    sources[name] = {
      plugin: s.plugin,
      as_of_date: s.asOf,
      rows: s.rows,
      deleted: s.deleted,
      keys: s.keys,
      counts: s.counts,
      decode_ms: s.decodeMs ?? null,
      nav_missing: s.navMissing ?? 0,
      files: s.files.map((f) => ({
        name: f.name,
        size: f.size,
        sha256: f.sha256,
        records: f.records,
        deleted: f.deleted,
        as_of_date: f.asOf,
        declared_records: f.declaredRecords,
        present_records: f.presentRecords,
        code_page: {
          encoding: f.codePage.encoding,
          origin: f.codePage.origin,
          language_driver: f.codePage.languageDriver,
          note: f.codePage.note ?? null,
        },
        evidence_unreadable: f.evidence.unreadable,
        evidence_samples: f.evidence.samples,
      })),
    };
  }
  return {
    _id: run.runId,
    run_id: run.runId,
    status: run.status,
    started_at: run.startedAt,
    finished_at: run.finishedAt,
    reconciliation_date: run.startedAt,
    timezone: run.timezone,
    tolerance: run.tolerance,
    config_hash: run.configHash,
    source_names: run.sourceNames,
    all_sources: run.allSources,
    coverage: coverageOf(run),
    file_hashes: Object.values(run.sources)
      .flatMap((s) => s.files.map((f) => f.sha256))
      .filter((h) => h.length > 0),
    skipped_sources: run.skippedSources ?? [],
    sources,
    ledger: run.ledger.map((l) => ({
      as_of_date: l.asOf,
      cutoff: l.cutoff,
      transactions: l.transactions,
      positions: l.positions,
      missing_key: l.missingKey,
      non_numeric_units: l.nonNumericUnits,
      bad_date: l.badDate,
      samples: l.samples,
      ignored_types: l.ignoredTypes,
    })),
    counts: run.counts,
    closed_positions: run.closedPositions,
    values: (run.values ?? []).map((g: ValueGroup) => ({
      source: g.source,
      status: g.status,
      reason: g.reason,
      breaks: g.breaks,
      unvalued: g.unvalued,
      immaterial: g.immaterial,
      gross_paise: storedPaise(g.grossPaise),
      net_paise: storedPaise(g.netPaise),
    })),
    immaterial: run.immaterial ?? 0,
    breaks: run.breaks
      ? {
          new: run.breaks.new,
          persisting: run.breaks.persisting,
          changed: run.breaks.changed,
          reopened: run.breaks.reopened,
          resolved_count: run.breaks.resolved.length,
          resolved: run.breaks.resolved.slice(0, RESOLVED_LISTED).map((r) => ({
            source: r.source,
            product_code: r.productCode,
            folio_no: r.folio,
            status: r.status,
            first_seen: r.firstSeen,
            resolved_on: r.resolvedOn,
          })),
        }
      : null,
    timings_ms: run.timingsMs,
    error: run.error,
  };
}
