/** Report writers: xlsx (exceljs), csv, json and one self-contained html file. */
import { writeFile } from 'node:fs/promises';
import ExcelJS from 'exceljs';
import type { BreakLine, ReportData } from './data.js';

export const REPORT_FORMATS = ['xlsx', 'csv', 'json', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

const BREAK_COLUMNS: { header: string; key: keyof BreakLine; width: number; numeric?: boolean }[] = [
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
  { header: 'Reason', key: 'reason', width: 22 },
];

export async function writeReport(data: ReportData, format: ReportFormat, path: string): Promise<void> {
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
  return [BREAK_COLUMNS.map((c) => c.key).join(','), ...breaks.map((b) => BREAK_COLUMNS.map((c) => cell(b[c.key])).join(','))].join('\n') + '\n';
}

async function xlsx(data: ReportData, path: string): Promise<void> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'brokerage-recon';
  const summary = wb.addWorksheet('Summary');
  summary.columns = [{ width: 26 }, { width: 20 }, { width: 14 }, { width: 14 }, { width: 14 }, { width: 70 }];
  const title = (text: string) => { const r = summary.addRow([text]); r.font = { bold: true, size: 12 }; };
  title('Reconciliation run');
  summary.addRow(['Run id', data.runId]);
  summary.addRow(['Status', data.status]);
  summary.addRow(['Started', data.startedAt]);
  for (const [source, day] of Object.entries(data.asOf)) summary.addRow([`As-of day (${source})`, day]);
  summary.addRow([]);
  title('Files');
  header(summary.addRow(['Source', 'File', 'Records', 'Deleted', 'Bytes', 'sha256']));
  for (const f of data.files) summary.addRow([f.source, f.name, f.records, f.deleted, f.size, f.sha256]);
  summary.addRow([]);
  title('Counts');
  header(summary.addRow(['Source', 'matched', 'mismatched', 'dbf_only', 'mongo_only']));
  for (const [source, c] of Object.entries(data.counts)) summary.addRow([source, c.matched ?? 0, c.mismatched ?? 0, c.dbf_only ?? 0, c.mongo_only ?? 0]);
  summary.addRow(['Total', data.totals.matched ?? 0, data.totals.mismatched ?? 0, data.totals.dbf_only ?? 0, data.totals.mongo_only ?? 0]).font = { bold: true };
  summary.addRow([]);
  title('Breaks since the previous day');
  summary.addRow(['New', data.lifecycle.new]);
  summary.addRow(['Persisting', data.lifecycle.persisting]);
  summary.addRow(['Changed', data.lifecycle.changed]);
  summary.addRow(['Resolved', data.lifecycle.resolved]);

  const sheet = wb.addWorksheet('Breaks', { views: [{ state: 'frozen', ySplit: 1 }] });
  sheet.columns = BREAK_COLUMNS.map((c) => ({ header: c.header, key: c.key, width: c.width }));
  header(sheet.getRow(1));
  for (const b of data.breaks) sheet.addRow(Object.fromEntries(BREAK_COLUMNS.map((c) => [c.key, b[c.key] ?? null])));
  for (const c of BREAK_COLUMNS) if (c.numeric) sheet.getColumn(c.key).numFmt = c.key === 'age_days' ? '0' : '#,##0.0000';
  sheet.autoFilter = { from: { row: 1, column: 1 }, to: { row: 1, column: BREAK_COLUMNS.length } };
  await wb.xlsx.writeFile(path);
}

function header(row: ExcelJS.Row): void {
  row.font = { bold: true, color: { argb: 'FFFFFFFF' } };
  row.fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FF1F4E79' } };
  row.alignment = { vertical: 'middle' };
}

const esc = (v: unknown) => String(v ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function chart(history: ReportData['history']): string {
  const w = 640, h = 180, pad = 30;
  const max = Math.max(1, ...history.map((p) => p.breaks));
  const bw = history.length > 0 ? Math.min(40, (w - 2 * pad) / history.length) : 0;
  const bars = history.map((p, i) => {
    const bh = ((h - 2 * pad) * p.breaks) / max;
    const x = pad + i * bw;
    return `<rect x="${x + 2}" y="${h - pad - bh}" width="${Math.max(1, bw - 4)}" height="${bh}" fill="#1f4e79"><title>${esc(p.asOf)}: ${p.breaks} breaks</title></rect>`
      + `<text x="${x + bw / 2}" y="${h - pad + 14}" font-size="9" text-anchor="middle">${esc(p.asOf.slice(5))}</text>`
      + `<text x="${x + bw / 2}" y="${h - pad - bh - 3}" font-size="9" text-anchor="middle">${p.breaks}</text>`;
  }).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" role="img" aria-label="breaks per day"><line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" stroke="#888"/>${bars}</svg>`;
}

function html(data: ReportData): string {
  const counts = Object.entries(data.counts).map(([s, c]) => `<tr><td>${esc(s)}</td><td>${esc(data.asOf[s] ?? '')}</td><td>${c.matched ?? 0}</td><td>${c.mismatched ?? 0}</td><td>${c.dbf_only ?? 0}</td><td>${c.mongo_only ?? 0}</td></tr>`).join('');
  const files = data.files.map((f) => `<tr><td>${esc(f.source)}</td><td>${esc(f.name)}</td><td>${f.records}</td><td>${f.deleted}</td><td><code>${esc(f.sha256)}</code></td></tr>`).join('');
  const columns = JSON.stringify(BREAK_COLUMNS.map((c) => ({ key: c.key, header: c.header, numeric: c.numeric === true })));
  // Embedded as JSON inside a script: `<` is escaped so no value can close the script element.
  const rows = JSON.stringify(data.breaks).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Reconciliation ${esc(data.runId)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:24px;color:#222} h1{font-size:20px} h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse} th,td{border:1px solid #ccc;padding:4px 8px;text-align:left} th{background:#1f4e79;color:#fff}
#breaks th{cursor:pointer} #breaks td.num{text-align:right;font-variant-numeric:tabular-nums} .muted{color:#666}
</style></head><body>
<h1>Reconciliation run <code>${esc(data.runId)}</code> — ${esc(data.status)}</h1>
<p class="muted">started ${esc(data.startedAt)}; new ${data.lifecycle.new}, persisting ${data.lifecycle.persisting}, changed ${data.lifecycle.changed}, resolved ${data.lifecycle.resolved}</p>
<h2>Counts</h2><table><thead><tr><th>Source</th><th>As-of</th><th>matched</th><th>mismatched</th><th>dbf_only</th><th>mongo_only</th></tr></thead><tbody>${counts}</tbody></table>
<h2>Files</h2><table><thead><tr><th>Source</th><th>File</th><th>Records</th><th>Deleted</th><th>sha256</th></tr></thead><tbody>${files}</tbody></table>
<h2>Breaks per day (last ${data.history.length} committed runs)</h2>${chart(data.history)}
<h2>Breaks (${data.breaks.length})</h2>
<p class="muted">Click a column heading to sort.</p>
<table id="breaks"><thead><tr></tr></thead><tbody></tbody></table>
<noscript>Enable JavaScript to see the break table.</noscript>
<script>
const columns = ${columns};
const rows = ${rows};
const head = document.querySelector('#breaks thead tr');
const body = document.querySelector('#breaks tbody');
let sortKey = null, ascending = true;
function render() {
  body.replaceChildren(...rows.map((r) => {
    const tr = document.createElement('tr');
    for (const c of columns) {
      const td = document.createElement('td');
      td.textContent = r[c.key] === null || r[c.key] === undefined ? '' : String(r[c.key]);
      if (c.numeric) td.className = 'num';
      tr.appendChild(td);
    }
    return tr;
  }));
}
for (const c of columns) {
  const th = document.createElement('th');
  th.textContent = c.header;
  th.addEventListener('click', () => {
    ascending = sortKey === c.key ? !ascending : true;
    sortKey = c.key;
    rows.sort((a, b) => {
      const x = a[c.key], y = b[c.key];
      const cmp = c.numeric ? (x ?? -Infinity) - (y ?? -Infinity) : String(x ?? '').localeCompare(String(y ?? ''));
      return ascending ? cmp : -cmp;
    });
    render();
  });
  head.appendChild(th);
}
render();
</script>
</body></html>
`;
}
