/**
 * `npm run bench:outputs`: what writing results and reports costs.
 *   - the files store's results.csv writer: rows/s and rows per CPU second over N result rows
 *     (every third a break, a quarter of those with a reason, one scheme name in five with commas
 *     and quotes), the best of three passes;
 *   - `recon report` as a whole process (XLSX, HTML, CSV) over a files-store run of B breaks: wall
 *     time and peak RSS (GNU time's maximum resident set size of the child);
 *   - with --sheet-limit, Excel's row limit at full size: EXCEL_MAX_ROWS breaks (one more than a
 *     sheet holds under its header) written to XLSX with the default limit and read back with
 *     exceljs's streaming reader; the first sheet must end at row 1,048,576 and one break go to
 * "Breaks 2". Prints one JSON object per measurement.
 *
 * Flags: --rows N (CSV writer rows, default 1000000) --breaks N (report breaks, default 100000)
 * --formats xlsx,html,csv (empty: none) --dir PATH --keep (leave the generated files)
 * --sheet-limit
 */
import { spawnSync } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type ReconRow } from '../core/reconcile.js';
import { FileStore } from '../core/store/files.js';
import { breakLine, type BreakLine } from '../core/report/data.js';
import { resultDocument } from '../core/store/documents.js';
import { EXCEL_MAX_ROWS, writeReport } from '../core/report/write.js';
import ExcelJS from 'exceljs';
import type { RunSummary } from '../core/store/types.js';
import { summaryOf } from '../fixtures/summary.js';

const { values: flags } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    breaks: { type: 'string', default: '100000' },
    formats: { type: 'string', default: 'xlsx,html,csv' },
    dir: { type: 'string', default: join(tmpdir(), 'recon-bench-outputs') },
    keep: { type: 'boolean', default: false },
    'sheet-limit': { type: 'boolean', default: false },
  },
});
const emit = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify(o) + '\n');

/** Result rows as a run leaves them: two in three matched, breaks with reasons and values. */
function resultRows(n: number, breaksOnly: boolean): ReconRow[] {
  const rows: ReconRow[] = [];
  const statuses = ['mismatched', 'dbf_only', 'mongo_only'] as const;
  for (let i = 0; i < n; i++) {
    const brk = breaksOnly || i % 3 === 0;
    const status = brk ? statuses[i % 3] : 'matched';
    const units = 1_000_000 + ((i * 7919) % 90_000_000);
    const diff = brk ? (((i * 131) % 20_000) - 10_000) * 10 || 10 : 0;
    rows.push({
      source: i % 2 === 0 ? 'CAMS' : 'KARVY',
      status,
      asOf: '2024-12-24',
      productCode: `B${String(i % 997).padStart(3, '0')}`,
      folio: String(10_000_000 + i),
      schemeName:
        i % 5 === 0 ? `Scheme "${i % 97}", Growth, Direct Plan` : `Scheme ${i % 97} Growth`,
      dbfUnits: status === 'mongo_only' ? null : units,
      mongoUnits: status === 'dbf_only' ? null : units + diff,
      difference: diff,
      dbfRows: status === 'mongo_only' ? 0 : 1,
      decimals: 4,
      ...(brk
        ? {
            firstSeen: '2024-12-01',
            ageDays: i % 30,
            lifecycle: 'new' as const,
            reason:
              i % 4 === 0
                ? { code: 'timing' as const, transactionIds: [`t${i}`, `t${i + 1}`] }
                : undefined,
            nav: 1_012_345,
            navSource: 'file' as const,
            valuePaise: Math.round((diff * 1_012_345) / 1_000_000),
            immaterial: false,
          }
        : {}),
    });
  }
  return rows;
}

function runSummary(runId: string): RunSummary {
  return summaryOf({
    runId,
    status: 'running',
    startedAt: new Date('2024-12-25T03:00:00Z'),
    finishedAt: null,
    configHash: 'bench',
    sourceNames: ['CAMS', 'KARVY'],
  });
}

/** Wall and CPU milliseconds (the writer is single-threaded: CPU time is its time on one core). */
async function writeStore(
  dir: string,
  runId: string,
  rows: readonly ReconRow[],
): Promise<{ ms: number; cpuMs: number }> {
  rmSync(dir, { recursive: true, force: true });
  const store = new FileStore(dir);
  const run = runSummary(runId);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await store.begin(run);
  for (let i = 0; i < rows.length; i += 10_000)
    await store.writeRows(run, rows.slice(i, i + 10_000));
  await store.commit(run);
  const cpu = process.cpuUsage(c0);
  return { ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 };
}

const dir = flags.dir;
await mkdir(dir, { recursive: true });

// 1. The results.csv writer.
{
  const n = Number(flags.rows);
  const rows = resultRows(n, false);
  let best = { ms: Infinity, cpuMs: Infinity };
  for (let pass = 0; pass < 3; pass++) {
    const t = await writeStore(join(dir, 'csv'), `csv-${pass}`, rows);
    if (t.ms < best.ms) best = t;
  }
  emit({
    measure: 'results_csv_writer',
    rows: n,
    ms: Math.round(best.ms),
    rows_per_s: Math.round(n / (best.ms / 1000)),
    cpu_ms: Math.round(best.cpuMs),
    rows_per_cpu_s: Math.round(n / (best.cpuMs / 1000)),
    bytes: statSync(join(dir, 'csv', 'runs', 'csv-2', 'results.csv')).size,
  });
}

// 2. `recon report` as a whole process over a run of only breaks.
const formats = flags.formats.split(',').filter((f) => f.length > 0);
if (formats.length > 0) {
  const n = Number(flags.breaks);
  const store = join(dir, 'report-store');
  await writeStore(store, 'report-run', resultRows(n, true));
  const config = join(dir, 'recon.config.yaml');
  await writeFile(
    config,
    `ledger: { type: ndjson, path: ./ledger.ndjson }
store: { type: files, dir: ./report-store }
sources:
  - { name: CAMS, plugin: cams, fetch: { type: local, dir: ., pattern: "*.dbf" } }
`,
  );
  const cli = fileURLToPath(new URL('../core/cli.js', import.meta.url));
  for (const format of formats) {
    const out = join(dir, `report.${format}`);
    const t0 = performance.now();
    // GNU time's -f prints the child's peak RSS (KiB) on stderr after the command's own output.
    const child = spawnSync(
      '/usr/bin/time',
      ['-f', 'maxrss_kb=%M', process.execPath, cli, 'report', '--config', config].concat([
        '--format',
        format,
        '--out',
        out,
      ]),
      { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] },
    );
    if (child.status !== 0) throw new Error(`recon report ${format} failed: ${child.stderr}`);
    const stderr = child.stderr;
    const ms = performance.now() - t0;
    const kb = Number(/maxrss_kb=(\d+)/.exec(stderr)?.[1]);
    emit({
      measure: 'report',
      format,
      breaks: n,
      ms: Math.round(ms),
      peak_rss_mb: Math.round(kb / 1024),
      bytes: statSync(out).size,
    });
  }
}
// 3. Excel's row limit, at full size.
if (flags['sheet-limit']) {
  const path = join(dir, 'limit.xlsx');
  const one = breakLine(resultDocument(runSummary('limit'), resultRows(1, true)[0]), undefined);
  async function* rows(): AsyncGenerator<BreakLine> {
    for (let i = 0; i < EXCEL_MAX_ROWS; i++) yield { ...one, folio_no: String(i + 1) };
  }
  const data = {
    runId: 'limit',
    status: 'committed',
    startedAt: '2024-12-25T00:00:00.000Z',
    finishedAt: null,
    asOf: { CAMS: '2024-12-24' },
    files: [],
    counts: {},
    totals: {},
    lifecycle: { new: 0, persisting: 0, changed: 0, reopened: 0, resolved: 0 },
    resolved: [],
    values: [],
    immaterial: 0,
    breaks: rows() as unknown as BreakLine[],
    history: [],
  };
  const t0 = performance.now();
  await writeReport(data, 'xlsx', path);
  const writeMs = performance.now() - t0;
  const sheets: { name: string; rows: number; lastRow: number; lastFolio: unknown }[] = [];
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(path, {});
  for await (const sheet of reader) {
    const s = {
      name: (sheet as unknown as { name: string }).name,
      rows: 0,
      lastRow: 0,
      lastFolio: null as unknown,
    };
    for await (const row of sheet) {
      s.rows++;
      s.lastRow = row.number;
      s.lastFolio = row.getCell(6).value;
    }
    sheets.push(s);
  }
  const breaks = sheets.filter((s) => s.name.startsWith('Breaks'));
  emit({
    measure: 'sheet_limit',
    limit: EXCEL_MAX_ROWS,
    write_ms: Math.round(writeMs),
    sheets: breaks,
    ok:
      breaks.length === 2 &&
      breaks[0].rows === EXCEL_MAX_ROWS &&
      breaks[0].lastRow === 1_048_576 &&
      breaks[0].lastFolio === String(EXCEL_MAX_ROWS - 1) &&
      breaks[1].rows === 2 &&
      breaks[1].lastFolio === String(EXCEL_MAX_ROWS),
  });
}

if (!flags.keep) rmSync(dir, { recursive: true, force: true });
