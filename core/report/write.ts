/**
 * Report writers: xlsx (exceljs's streaming writer), csv, json and one self-contained html file.
 * Each streams the breaks into the file as it reads them, so memory does not grow with their
 * number; an XLSX sheet holds at most Excel's row limit and the breaks continue on the next sheet.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type ExcelJS from 'exceljs';
import { formatRupees } from '../breaks/value.js';
import type { ReportFormat } from '../../config/schema.js';
import { ChunkedWriter } from '../chunked-writer.js';
import { CsvWriter } from '../csv.js';
import type { BreakLine, BreakRows, ReportData } from './data.js';
import { htmlPage, htmlRow } from './html.js';

export type { ReportFormat } from '../../config/schema.js';

/** Rows one Excel sheet holds, its header row included. */
export const EXCEL_MAX_ROWS = 1_048_576;

export interface ReportOptions {
  /** Rows per XLSX break sheet, header included (default: Excel's limit). */
  sheetRows?: number;
}

const BREAK_COLUMNS: { header: string; key: keyof BreakLine; width: number; numeric?: boolean }[] =
  [
    { header: 'Source', key: 'source', width: 10 },
    { header: 'Status', key: 'status', width: 12 },
    { header: 'Lifecycle', key: 'lifecycle', width: 11 },
    { header: 'Age (days)', key: 'age_days', width: 10, numeric: true },
    { header: 'Product code', key: 'product_code', width: 13 },
    { header: 'Folio', key: 'folio_no', width: 16 },
    { header: 'Scheme', key: 'scheme_name', width: 36 },
    { header: 'Ledger units', key: 'mongo_units', width: 15, numeric: true },
    { header: 'File units', key: 'dbf_units', width: 15, numeric: true },
    { header: 'Difference', key: 'difference', width: 14, numeric: true },
    { header: 'NAV', key: 'nav', width: 12, numeric: true },
    { header: 'NAV from', key: 'nav_source', width: 10 },
    { header: 'Value (Rs)', key: 'value', width: 16, numeric: true },
    { header: 'Immaterial', key: 'immaterial', width: 11 },
    { header: 'Reason', key: 'reason', width: 22 },
    { header: 'Reopened after', key: 'reopened_after', width: 14 },
    { header: 'Owner', key: 'owner', width: 14 },
    { header: 'State', key: 'state', width: 14 },
    { header: 'Note', key: 'note', width: 48 },
  ];

export async function writeReport(
  data: ReportData,
  format: ReportFormat,
  path: string,
  options: ReportOptions = {},
): Promise<void> {
  if (format === 'json') return writeText(path, (out) => jsonReport(data, out));
  if (format === 'csv') return writeText(path, (out) => breaksCsv(data.breaks, out));
  if (format === 'html') return writeText(path, (out) => htmlReport(data, out));
  return xlsx(data, path, options.sheetRows ?? EXCEL_MAX_ROWS);
}

/** A text file written in large chunks; on failure the stream is closed, never left open. */
async function writeText(path: string, fill: (out: CsvWriter) => Promise<void>): Promise<void> {
  const stream = createWriteStream(path);
  const out = new CsvWriter(stream);
  try {
    await fill(out);
    await out.end();
  } catch (err) {
    stream.destroy();
    throw err;
  }
}

async function breaksCsv(breaks: BreakRows, out: CsvWriter): Promise<void> {
  out.line(BREAK_COLUMNS.map((c) => c.key));
  for await (const b of breaks) {
    for (const c of BREAK_COLUMNS) out.value(b[c.key]);
    out.endLine();
    if (out.full) await out.flush();
  }
}

/** `JSON.stringify(data, null, 2)`, with the breaks written one by one in their place. */
async function jsonReport(data: ReportData, out: ChunkedWriter): Promise<void> {
  const mark = '\u0000BREAKS\u0000';
  const text = JSON.stringify(
    Object.fromEntries(Object.entries(data).map(([k, v]) => [k, k === 'breaks' ? mark : v])),
    null,
    2,
  );
  // The last mark: only numbers and dates follow the breaks.
  const at = text.lastIndexOf(JSON.stringify(mark));
  out.write(text.slice(0, at));
  let first = true;
  for await (const b of data.breaks) {
    // An element of an array two levels in: its lines indented by four spaces.
    out.write(
      (first ? '[\n    ' : ',\n    ') + JSON.stringify(b, null, 2).replace(/\n/g, '\n    '),
    );
    first = false;
    if (out.full) await out.flush();
  }
  out.write((first ? '[]' : '\n  ]') + text.slice(at + JSON.stringify(mark).length) + '\n');
}

async function htmlReport(data: ReportData, out: ChunkedWriter): Promise<void> {
  const page = htmlPage(data);
  out.write(page.head + '[');
  let first = true;
  for await (const b of data.breaks) {
    out.write(first ? htmlRow(b) : ',' + htmlRow(b));
    first = false;
    if (out.full) await out.flush();
  }
  out.write(']' + page.tail);
}

async function xlsx(data: ReportData, path: string, sheetRows: number): Promise<void> {
  // Loaded here, not at start-up: exceljs alone takes a quarter of a second to load.
  const { default: ExcelJS } = await import('exceljs');
  // Inline strings: a shared-strings table would hold every distinct text until the end.
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({
    filename: path,
    useStyles: true,
    useSharedStrings: false,
  });
  wb.creator = 'brokerage-recon';
  const summary = wb.addWorksheet('Summary');
  summary.columns = [
    { width: 26 },
    { width: 20 },
    { width: 14 },
    { width: 14 },
    { width: 14 },
    { width: 70 },
  ];
  const title = (text: string) => {
    const r = summary.addRow([text]);
    r.font = { bold: true, size: 12 };
  };
  title('Reconciliation run');
  summary.addRow(['Run id', data.runId]);
  summary.addRow(['Status', data.status]);
  summary.addRow(['Started', data.startedAt]);
  for (const [source, day] of Object.entries(data.asOf))
    summary.addRow([`As-of day (${source})`, day]);
  summary.addRow([]);
  title('Files');
  header(summary.addRow(['Source', 'File', 'Records', 'Deleted', 'Bytes', 'sha256']));
  for (const f of data.files)
    summary.addRow([f.source, f.name, f.records, f.deleted, f.size, f.sha256]);
  summary.addRow([]);
  title('Counts');
  header(summary.addRow(['Source', 'matched', 'mismatched', 'dbf_only', 'mongo_only']));
  for (const [source, c] of Object.entries(data.counts))
    summary.addRow([source, c.matched ?? 0, c.mismatched ?? 0, c.dbf_only ?? 0, c.mongo_only ?? 0]);
  summary.addRow([
    'Total',
    data.totals.matched ?? 0,
    data.totals.mismatched ?? 0,
    data.totals.dbf_only ?? 0,
    data.totals.mongo_only ?? 0,
  ]).font = { bold: true };
  summary.addRow([]);
  title('Breaks since the previous day');
  summary.addRow(['New', data.lifecycle.new]);
  summary.addRow(['Persisting', data.lifecycle.persisting]);
  summary.addRow(['Changed', data.lifecycle.changed]);
  summary.addRow(['Reopened', data.lifecycle.reopened]);
  summary.addRow(['Resolved', data.lifecycle.resolved]);
  summary.addRow(['Immaterial', data.immaterial]);
  summary.addRow([]);
  title('Value of breaks (Rs)');
  header(
    summary.addRow([
      'Source',
      'Status',
      'Reason',
      'Breaks',
      'Without NAV',
      'At stake (sum of absolute values)',
      'Net (ledger minus file)',
    ]),
  );
  for (const g of data.values)
    summary.addRow([
      g.source ?? '(owner unknown)',
      g.status,
      g.reason ?? '',
      g.breaks,
      g.unvalued,
      formatRupees(g.gross_paise),
      formatRupees(g.net_paise),
    ]);

  summary.commit();

  let sheet: ExcelJS.Worksheet | null = null;
  let sheets = 0,
    rows = 0;
  for await (const b of data.breaks) {
    if (sheet === null || rows >= sheetRows) {
      sheet?.commit();
      sheet = breakSheet(wb, ++sheets);
      rows = 1;
    }
    sheet.addRow(BREAK_COLUMNS.map((c) => b[c.key] ?? null)).commit();
    if (++rows % 512 === 0) await zipCaughtUp(sheet);
  }
  (sheet ?? breakSheet(wb, 1)).commit();
  await wb.commit();
}

/** A break sheet with its styled, frozen, filtered header: "Breaks", then "Breaks 2", … */
function breakSheet(wb: ExcelJS.stream.xlsx.WorkbookWriter, n: number): ExcelJS.Worksheet {
  const sheet = wb.addWorksheet(n === 1 ? 'Breaks' : `Breaks ${n}`, {
    views: [{ state: 'frozen', ySplit: 1 }],
  });
  // Number formats on the columns before any row, so that every cell takes them.
  sheet.columns = BREAK_COLUMNS.map((c) => ({
    header: c.header,
    key: c.key,
    width: c.width,
    ...(c.numeric ? { style: { numFmt: numberFormat(c.key) } } : {}),
  }));
  header(sheet.getRow(1));
  sheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: BREAK_COLUMNS.length } };
  return sheet;
}

/**
 * exceljs hands a sheet's XML to the zip without waiting for it to be compressed: wait while the
 * zip's input queue is full, or memory grows with the rows written.
 */
async function zipCaughtUp(sheet: ExcelJS.Worksheet): Promise<void> {
  // The sheet's stream pipes into the zip's entry (a readable-stream PassThrough, which predates
  // `writableNeedDrain`; its state says whether a write overran the queue).
  const sheetStream = (sheet as unknown as { stream?: { pipes?: ZipEntry[] } }).stream;
  for (const entry of sheetStream?.pipes ?? [])
    if (entry.writableNeedDrain ?? entry._writableState?.needDrain) await once(entry, 'drain');
}

type ZipEntry = Writable & { _writableState?: { needDrain?: boolean } };

function numberFormat(key: keyof BreakLine): string {
  return key === 'age_days' ? '0' : key === 'value' ? '#,##0.00' : '#,##0.0000';
}

function header(row: ExcelJS.Row): void {
  row.font = { bold: true, color: { argb: 'FFFFFFFF' } };
  row.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FF1F4E79' } };
  row.alignment = { vertical: 'middle' };
}
