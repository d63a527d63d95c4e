/** Report writers: xlsx (exceljs), csv, json and one self-contained html file. */
import { writeFile } from 'node:fs/promises';
import ExcelJS from 'exceljs';
import { formatRupees } from '../breaks/value.js';
import type { BreakLine, ReportData } from './data.js';
import type { ReportFormat } from '../../config/schema.js';
import { html } from './html.js';

export type { ReportFormat } from '../../config/schema.js';

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
): Promise<void> {
  if (format === 'json') return writeFile(path, JSON.stringify(data, null, 2) + '\n');
  if (format === 'csv') return writeFile(path, breaksCsv(data.breaks));
  if (format === 'html') return writeFile(path, html(data));
  return xlsx(data, path);
}

function breaksCsv(breaks: BreakLine[]): string {
  const cell = (v: unknown) => {
    const t = v === null || v === undefined ? '' : String(v);
    return /[",\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
  };
  return (
    [
      BREAK_COLUMNS.map((c) => c.key).join(','),
      ...breaks.map((b) => BREAK_COLUMNS.map((c) => cell(b[c.key])).join(',')),
    ].join('\n') + '\n'
  );
}

async function xlsx(data: ReportData, path: string): Promise<void> {
  const wb = new ExcelJS.Workbook();
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

  const sheet = wb.addWorksheet('Breaks', { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.columns = BREAK_COLUMNS.map((c) => ({ header: c.header, key: c.key, width: c.width }));
  header(sheet.getRow(1));
  for (const b of data.breaks)
    sheet.addRow(Object.fromEntries(BREAK_COLUMNS.map((c) => [c.key, b[c.key] ?? null])));
  for (const c of BREAK_COLUMNS)
    if (c.numeric)
      sheet.getColumn(c.key).numFmt =
        c.key === 'age_days' ? '0' : c.key === 'value' ? '#,##0.00' : '#,##0.0000';
  sheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: BREAK_COLUMNS.length } };
  await wb.xlsx.writeFile(path);
}

function header(row: ExcelJS.Row): void {
  row.font = { bold: true, color: { argb: 'FFFFFFFF' } };
  row.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FF1F4E79' } };
  row.alignment = { vertical: 'middle' };
}
