/**
 * The daily page the desk works from: one self-contained HTML file (no network, no external
 * script), the day's breaks largest value first, a search box, filters, totals that follow the
 * filters, and a chart of breaks and value per as-of day. Rows are embedded as arrays and only the
 * rows in view are in the DOM (a fixed row height and two spacer rows), so 100,000 breaks open and
 * filter without freezing the page. Totals add integer paise, never floats of rupees.
 */
import { formatRupees } from '../breaks/value.js';
import type { BreakLine, DayPoint, ReportData } from './data.js';

/** The order of each embedded row's fields (the client script reads them by these indexes). */
const FIELDS = [
  'source',
  'status',
  'lifecycle',
  'reopened_after',
  'age_days',
  'first_seen',
  'product_code',
  'folio_no',
  'scheme_name',
  'mongo_units',
  'dbf_units',
  'difference',
  'reason',
  'nav',
  'nav_source',
  'value_paise',
  'immaterial',
  'note',
  'owner',
  'state',
  'note_author',
  'note_at',
] as const satisfies readonly (keyof BreakLine)[];

/** Where the rows go in the page (no text of the page holds it). */
const ROWS_MARK = '\u0000ROWS\u0000';

const esc = (v: unknown) => String(v ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Bars: breaks per as-of day; line: their value (sum of absolute values). */
export function chart(history: readonly DayPoint[]): string {
  const w = 720,
    h = 200,
    left = 44,
    right = 64,
    top = 16,
    bottom = 34;
  const plotW = w - left - right,
    plotH = h - top - bottom;
  const maxBreaks = Math.max(1, ...history.map((p) => p.breaks));
  const maxValue = Math.max(1, ...history.map((p) => Number(p.grossPaise))); // geometry only
  const step = history.length > 0 ? plotW / history.length : 0;
  const bw = Math.max(2, Math.min(36, step - 6));
  const x = (i: number) => left + step * i + step / 2;
  const yB = (n: number) => top + plotH - (plotH * n) / maxBreaks;
  const yV = (p: number) => top + plotH - (plotH * p) / maxValue;
  const bars = history
    .map(
      (p, i) =>
        `<rect class="bar" x="${(x(i) - bw / 2).toFixed(1)}" y="${yB(p.breaks).toFixed(1)}" width="${bw.toFixed(1)}" height="${(top + plotH - yB(p.breaks)).toFixed(1)}"><title>${esc(p.asOf)}: ${p.breaks} breaks, Rs ${formatRupees(p.grossPaise)}</title></rect>` +
        `<text x="${x(i).toFixed(1)}" y="${h - bottom + 14}" text-anchor="middle">${esc(p.asOf.slice(5))}</text>`,
    )
    .join('');
  const line =
    history.length > 1
      ? `<polyline class="value" points="${history.map((p, i) => `${x(i).toFixed(1)},${yV(Number(p.grossPaise)).toFixed(1)}`).join(' ')}"/>`
      : '';
  const dots = history
    .map(
      (p, i) =>
        `<circle class="value" cx="${x(i).toFixed(1)}" cy="${yV(Number(p.grossPaise)).toFixed(1)}" r="3"><title>${esc(p.asOf)}: Rs ${formatRupees(p.grossPaise)}</title></circle>`,
    )
    .join('');
  return (
    `<svg id="chart" viewBox="0 0 ${w} ${h}" role="img" aria-label="breaks and value per as-of day">` +
    `<line x1="${left}" y1="${top + plotH}" x2="${w - right}" y2="${top + plotH}" stroke="#888"/>` +
    `<text x="${left - 6}" y="${top + 8}" text-anchor="end">${maxBreaks}</text><text x="${left - 6}" y="${top + plotH}" text-anchor="end">0</text>` +
    `<text x="${w - right + 6}" y="${top + 8}" class="vt">Rs ${esc(shortRupees(maxValue))}</text>` +
    `${bars}${line}${dots}` +
    `<text x="${left}" y="${h - 4}" class="legend"><tspan class="lb">■</tspan> breaks  <tspan class="lv">●</tspan> value at stake</text></svg>`
  );
}

/** Rupees for an axis label: 12.3 L, 4.5 Cr. */
function shortRupees(paise: number): string {
  // an axis label: rounding is fine here
  const r = paise / 100;
  if (r >= 1e7) return `${(r / 1e7).toFixed(1)} Cr`;
  if (r >= 1e5) return `${(r / 1e5).toFixed(1)} L`;
  return formatRupees(Math.round(paise)).replace(/\.\d\d$/, '');
}

/** One break as the page embeds it: an array in FIELDS order, `<` escaped. */
export function htmlRow(b: BreakLine): string {
  // Inside a script element: `<` is escaped so no value can close the element.
  return JSON.stringify(
    FIELDS.map((f) => (f === 'immaterial' ? (b.immaterial ? 1 : 0) : b[f])),
  ).replace(/</g, '\\u003c');
}

/**
 * The page around its rows: `head`, then the rows as one JSON array (`htmlRow` joined by commas
 * inside `[` `]`), then `tail`; so the rows stream into the file.
 */
export function htmlPage(data: ReportData): { head: string; tail: string } {
  const counts = Object.entries(data.counts)
    .map(
      ([s, c]) =>
        `<tr><td>${esc(s)}</td><td>${esc(data.asOf[s] ?? '')}</td><td>${c.matched ?? 0}</td><td>${c.mismatched ?? 0}</td><td>${c.dbf_only ?? 0}</td><td>${c.mongo_only ?? 0}</td></tr>`,
    )
    .join('');
  const files = data.files
    .map(
      (f) =>
        `<tr><td>${esc(f.source)}</td><td>${esc(f.name)}</td><td>${f.records}</td><td>${f.deleted}</td><td><code>${esc(f.sha256.slice(0, 16))}…</code></td></tr>`,
    )
    .join('');
  const l = data.lifecycle;
  const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Breaks ${esc(Object.values(data.asOf).filter(Boolean).sort().at(-1) ?? '')} — reconciliation ${esc(data.runId.slice(0, 8))}</title>
<style>
*{box-sizing:border-box} header p,#totals{overflow-wrap:anywhere} body{font:14px system-ui,sans-serif;margin:0;color:#1d2733;background:#f6f7f9}
header{background:#1f4e79;color:#fff;padding:12px 16px} header h1{font-size:18px;margin:0} header p{margin:4px 0 0;opacity:.85;font-size:13px}
main{padding:12px 16px} h2{font-size:15px;margin:18px 0 8px}
.cards{display:flex;flex-wrap:wrap;gap:12px} .card{background:#fff;border:1px solid #dde2e8;border-radius:6px;padding:10px 12px;min-width:0;max-width:100%;overflow-x:auto}
.small{border-collapse:collapse;font-size:13px} .small th,.small td{border-bottom:1px solid #e3e7ec;padding:3px 8px;text-align:left} .small td:nth-child(n+3){text-align:right}
#chart{width:100%;max-width:720px;height:auto;font-size:10px} #chart .bar{fill:#1f4e79} #chart .value{fill:none;stroke:#d9822b;stroke-width:2} #chart circle.value{fill:#d9822b}
#chart .lb{fill:#1f4e79} #chart .lv{fill:#d9822b}
.controls{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin:8px 0} .controls input,.controls select{font:inherit;padding:5px 7px;border:1px solid #b9c2cc;border-radius:4px;background:#fff}
#search{flex:1 1 240px;min-width:0} #totals{background:#fff;border:1px solid #dde2e8;border-radius:6px;padding:8px 12px;margin:8px 0;font-variant-numeric:tabular-nums}
#totals b{font-size:15px}
#viewport{max-height:calc(100vh - 150px);overflow:auto;background:#fff;border:1px solid #dde2e8;border-radius:6px}
#breaks{border-collapse:separate;border-spacing:0;table-layout:fixed;width:max-content;min-width:100%}
#breaks th{position:sticky;top:0;z-index:1;background:#1f4e79;color:#fff;font-weight:600;text-align:left;padding:0 6px;height:30px;cursor:pointer;white-space:nowrap;user-select:none}
#breaks td{height:28px;padding:0 6px;border-bottom:1px solid #eef1f4;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
#breaks td.num{text-align:right;font-variant-numeric:tabular-nums} #breaks tr.row:hover td{background:#eef5fc}
td.v1{background:#fff4e0} td.v2{background:#ffe2b8} td.v3{background:#ffc57a;font-weight:600} td.imm{color:#8a94a0}
td.a1{background:#fff8cc} td.a2{background:#ffd9a8} td.a3{background:#f7a3a3;font-weight:600}
.lc-reopened{color:#b0306a;font-weight:600} .lc-new{color:#1f7a3a;font-weight:600} .st{border-radius:3px;padding:1px 5px;background:#e8edf2}
.muted{color:#66717d} .empty{padding:24px;text-align:center;color:#66717d}
@media (max-width:700px){ main{padding:8px} .p3{display:none} .controls select{flex:1 1 40%;min-width:0} #viewport{max-height:calc(100vh - 110px)} header h1{font-size:16px} }
</style></head><body>
<header><h1>Breaks to work — as of ${esc([...new Set(Object.values(data.asOf).filter(Boolean))].sort().join(', '))}</h1>
<p>run <code>${esc(data.runId)}</code> · ${esc(data.status)} · started ${esc(data.startedAt)} · new ${l.new}, reopened ${l.reopened}, persisting ${l.persisting}, changed ${l.changed}, resolved ${l.resolved} · immaterial ${data.immaterial}</p></header>
<main>
<div class="controls" role="search">
<input id="search" type="search" placeholder="Search folio, product, scheme, note, owner…" aria-label="search">
<select id="f-source" aria-label="source"></select><select id="f-status" aria-label="status"></select><select id="f-reason" aria-label="reason"></select>
<select id="f-lifecycle" aria-label="lifecycle"></select><select id="f-owner" aria-label="owner"></select><select id="f-state" aria-label="state"></select>
</div>
<div id="totals" aria-live="polite"></div>
<div id="viewport"><table id="breaks"><colgroup></colgroup><thead><tr></tr></thead><tbody id="rows"></tbody></table></div>
<h2>Breaks and value per as-of day</h2>${chart(data.history)}
<div class="cards">
<div class="card"><h2>Counts</h2><table class="small"><thead><tr><th>Source</th><th>As-of</th><th>matched</th><th>mismatched</th><th>dbf_only</th><th>mongo_only</th></tr></thead><tbody>${counts}</tbody></table></div>
<div class="card"><h2>Files</h2><table class="small"><thead><tr><th>Source</th><th>File</th><th>Records</th><th>Deleted</th><th>sha256</th></tr></thead><tbody>${files}</tbody></table></div>
</div>
<noscript>Enable JavaScript to see the break list.</noscript>
</main>
<script>
"use strict";
const F = ${JSON.stringify(Object.fromEntries(FIELDS.map((f, i) => [f, i])))};
const ROWS = ${ROWS_MARK};
const ROW_H = 28, OVERSCAN = 12;
const COLUMNS = [
  { key: 'value_paise', header: 'Value (Rs)', w: 120, num: true, fmt: (r) => r[F.value_paise] === null ? 'no NAV' : rupees(r[F.value_paise]), cls: valueClass, abs: true },
  { key: 'age_days', header: 'Age', w: 52, num: true, cls: ageClass },
  { key: 'source', header: 'Source', w: 76, fmt: (r) => r[F.source] === null ? '(none)' : r[F.source], title: (r) => r[F.source] === null ? 'a ledger position whose registrar is not known' : r[F.source] },
  { key: 'status', header: 'Status', w: 96 },
  { key: 'lifecycle', header: 'Lifecycle', w: 92, cls: (r) => 'lc-' + r[F.lifecycle], fmt: (r) => r[F.lifecycle] === 'reopened' ? 'reopened (' + r[F.reopened_after] + ')' : r[F.lifecycle] },
  { key: 'product_code', header: 'Product', w: 80 },
  { key: 'folio_no', header: 'Folio', w: 112 },
  { key: 'owner', header: 'Owner', w: 90 },
  { key: 'state', header: 'State', w: 104, fmt: (r) => r[F.state] || 'open' },
  { key: 'note', header: 'Note', w: 260, title: (r) => r[F.note] ? r[F.note] + ' — ' + r[F.note_author] + ', ' + r[F.note_at] : '' },
  { key: 'difference', header: 'Difference', w: 100, num: true },
  { key: 'reason', header: 'Reason', w: 150 },
  { key: 'nav', header: 'NAV', w: 96, num: true, p: 3, fmt: (r) => r[F.nav] === null ? '' : r[F.nav] + (r[F.nav_source] === 'ledger' ? ' (L)' : '') },
  { key: 'scheme_name', header: 'Scheme', w: 200, p: 3 },
  { key: 'mongo_units', header: 'Ledger', w: 100, num: true, p: 3 },
  { key: 'dbf_units', header: 'File', w: 100, num: true, p: 3 },
];
const FILTERS = [['source', 'every source'], ['status', 'every status'], ['reason', 'every reason'], ['lifecycle', 'every lifecycle'], ['owner', 'every owner'], ['state', 'every state']];
const viewport = document.getElementById('viewport'), body = document.getElementById('rows'), totalsEl = document.getElementById('totals');
const search = document.getElementById('search');
let maxValue = 1;
for (const r of ROWS) { const v = Math.abs(r[F.value_paise] || 0); if (v > maxValue) maxValue = v; }
// Lower-case text of every searchable field, made once.
const HAY = ROWS.map((r) => [r[F.folio_no], r[F.product_code], r[F.scheme_name], r[F.note], r[F.owner], r[F.source], r[F.reason], r[F.status]].join('\\u0001').toLowerCase());
const shown = new Uint32Array(ROWS.length);
let shownCount = 0, sortKey = 'value_paise', ascending = false, order = ROWS.map((_, i) => i);

function rupees(paise) {
  const p = BigInt(paise), neg = p < 0n, a = neg ? -p : p, whole = String(a / 100n), frac = String(a % 100n).padStart(2, '0');
  const last3 = whole.slice(-3), rest = whole.slice(0, -3).replace(/\\B(?=(\\d{2})+$)/g, ',');
  return (neg ? '-' : '') + (rest ? rest + ',' : '') + last3 + '.' + frac;
}
function valueClass(r) {
  if (r[F.immaterial]) return 'imm';
  const v = Math.abs(r[F.value_paise] || 0) / maxValue;
  return v >= 0.5 ? 'v3' : v >= 0.1 ? 'v2' : v >= 0.01 ? 'v1' : '';
}
function ageClass(r) { const a = r[F.age_days] || 0; return a >= 30 ? 'a3' : a >= 7 ? 'a2' : a >= 3 ? 'a1' : ''; }
function text(r, c) { const v = c.fmt ? c.fmt(r) : r[F[c.key]]; return v === null || v === undefined ? '' : String(v); }

function sortRows() {
  const c = COLUMNS.find((x) => x.key === sortKey), i = F[sortKey], dir = ascending ? 1 : -1;
  order.sort((a, b) => {
    let x = ROWS[a][i], y = ROWS[b][i];
    if (c && c.num) {
      if (x === null) return 1; if (y === null) return -1;
      if (c.abs) { x = Math.abs(x); y = Math.abs(y); }
      return (x - y) * dir || a - b;
    }
    return String(x === null ? '' : x).localeCompare(String(y === null ? '' : y)) * dir || a - b;
  });
}

function applyFilters() {
  const q = search.value.trim().toLowerCase();
  const want = FILTERS.map(([k]) => [F[k], document.getElementById('f-' + k).value, k]).filter((w) => w[1] !== '');
  // BigInt: exact whatever the total (a row's value is a safe integer; a sum of 100,000 may not
  // be).
  let n = 0, gross = 0n, net = 0n, immaterial = 0, unvalued = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k], r = ROWS[i];
    if (q && HAY[i].indexOf(q) < 0) continue;
    let ok = true;
    for (const [f, v, key] of want) { const x = key === 'state' ? (r[f] || 'open') : r[f] === null ? '(none)' : String(r[f]); if (x !== v) { ok = false; break; } }
    if (!ok) continue;
    shown[n++] = i;
    const p = r[F.value_paise];
    if (p === null) unvalued++; else { const b = BigInt(p); gross += b < 0n ? -b : b; net += b; }
    if (r[F.immaterial]) immaterial++;
  }
  shownCount = n;
  totalsEl.innerHTML = '<b id="total-count">' + n.toLocaleString('en-IN') + '</b> of ' + ROWS.length.toLocaleString('en-IN') + ' breaks · value at stake <b id="total-value">Rs ' + rupees(gross) + '</b>'
    + ' · net <span id="total-net">Rs ' + rupees(net) + '</span> · <span id="total-immaterial">' + immaterial + '</span> immaterial · <span id="total-unvalued">' + unvalued + '</span> without NAV';
  viewport.scrollTop = 0;
  render();
}

function render() {
  const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_H) - OVERSCAN);
  // The list's box grows with its rows up to the window: count rows for the window, not the box.
  const count = Math.ceil(Math.max(viewport.clientHeight, innerHeight) / ROW_H) + 2 * OVERSCAN;
  const last = Math.min(shownCount, first + count);
  const frag = document.createDocumentFragment();
  frag.appendChild(spacer(first * ROW_H));
  for (let k = first; k < last; k++) {
    const r = ROWS[shown[k]], tr = document.createElement('tr');
    tr.className = 'row';
    for (const c of COLUMNS) {
      const td = document.createElement('td');
      td.textContent = text(r, c);
      let cls = (c.num ? 'num ' : '') + (c.p ? 'p' + c.p + ' ' : '') + (c.cls ? c.cls(r) : '');
      td.className = cls.trim();
      const t = c.title ? c.title(r) : td.textContent; if (t) td.title = t;
      tr.appendChild(td);
    }
    frag.appendChild(tr);
  }
  frag.appendChild(spacer((shownCount - last) * ROW_H));
  if (shownCount === 0) { const tr = document.createElement('tr'), td = document.createElement('td'); td.colSpan = COLUMNS.length; td.className = 'empty'; td.textContent = 'No break matches.'; tr.appendChild(td); frag.appendChild(tr); }
  body.replaceChildren(frag);
}
function spacer(h) { const tr = document.createElement('tr'); tr.style.height = h + 'px'; tr.setAttribute('aria-hidden', 'true'); return tr; }

const colgroup = document.querySelector('#breaks colgroup'), head = document.querySelector('#breaks thead tr');
for (const c of COLUMNS) {
  const col = document.createElement('col'); col.style.width = c.w + 'px'; if (c.p) col.className = 'p' + c.p; colgroup.appendChild(col);
  const th = document.createElement('th'); th.textContent = c.header; th.dataset.key = c.key; if (c.p) th.className = 'p' + c.p;
  th.addEventListener('click', () => { ascending = sortKey === c.key ? !ascending : !c.num; sortKey = c.key; sortRows(); applyFilters(); });
  head.appendChild(th);
}
for (const [k, all] of FILTERS) {
  const sel = document.getElementById('f-' + k), seen = new Map();
  for (const r of ROWS) { const v = k === 'state' ? (r[F[k]] || 'open') : r[F[k]] === null ? '(none)' : String(r[F[k]]); seen.set(v, (seen.get(v) || 0) + 1); }
  sel.add(new Option(all, ''));
  for (const [v, n] of [...seen].sort()) sel.add(new Option(v + ' (' + n + ')', v));
  sel.addEventListener('change', applyFilters);
}
let timer = 0;
search.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(applyFilters, 120); });
let frame = 0;
viewport.addEventListener('scroll', () => { if (!frame) frame = requestAnimationFrame(() => { frame = 0; render(); }); });
addEventListener('resize', render);
sortRows();
applyFilters();
document.body.dataset.ready = '1';
</script>
</body></html>
`;
  // The last mark: text from the data comes before the script, never after it.
  const at = page.lastIndexOf(ROWS_MARK);
  return { head: page.slice(0, at), tail: page.slice(at + ROWS_MARK.length) };
}
