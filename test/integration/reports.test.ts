import { expect } from 'chai';
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ExcelJS from 'exceljs';
import type { LoadedConfig } from '../../config/load.js';
import { afterRun } from '../../core/after-run.js';
import { loadReport, type ReportData } from '../../core/report/data.js';
import { writeReport } from '../../core/report/write.js';
import { Daemon } from '../../core/daemon.js';
import { createReader } from '../../core/store/reader.js';
import type { RunSummary } from '../../core/store/types.js';
import { findBinary } from '../../fixtures/binaries.js';
import { IGNORE_DIVIDEND, mongoConfigYaml } from '../support/config.js';
import { cli } from '../support/cli.js';
import { mongoEnv } from '../support/database.js';
import { useDay } from '../support/day.js';
import { quietLogger, runOnce } from '../support/run.js';

const exec = promisify(execFile);
const outputDir = fileURLToPath(new URL('../../../test-output/', import.meta.url));

describe('reports, alerts and the people-facing CLI', function () {
  this.timeout(120_000);
  const world = useDay('reports', { scenario: true });
  let loaded: LoadedConfig;
  let run: RunSummary;
  let data: ReportData;
  let hook: Server;
  let received: { kind: string; [k: string]: unknown }[];
  let hookPort: number;

  before(async () => {
    received = [];
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => {
        body += d.toString();
      });
      req.on('end', () => {
        received.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
    hookPort = (hook.address() as { port: number }).port;
    loaded = await world.config(
      mongoConfigYaml(world.database, IGNORE_DIVIDEND) +
        `reports: { dir: ./reports, formats: [xlsx, html, csv, json] }\nalerts: { webhook: "http://127.0.0.1:${hookPort}/hook", newBreaksThreshold: 2, fileDeadline: "09:30" }\n`,
    );
    run = await runOnce(loaded, { force: true });
    expect(run.status).to.equal('committed');
    data = await loadReport(createReader(loaded.config, loaded.baseDir), { runId: run.runId });
  });

  after(async () => {
    await new Promise<void>((r) => hook.close(() => r()));
  });

  it('writes an XLSX that a real reader opens: Summary and Breaks sheets, styled frozen filtered header, one row per break, numbers as numbers', async () => {
    const path = join(world.dir, 'report.xlsx');
    await writeReport(data, 'xlsx', path);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(path);
    expect(wb.worksheets.map((w) => w.name)).to.deep.equal(['Summary', 'Breaks']);
    const breaks = wb.getWorksheet('Breaks')!;
    expect((breaks.getRow(1).values as unknown[]).slice(1)).to.deep.equal([
      'Source',
      'Status',
      'Lifecycle',
      'Age (days)',
      'Product code',
      'Folio',
      'Scheme',
      'Ledger units',
      'File units',
      'Difference',
      'NAV',
      'NAV from',
      'Value (Rs)',
      'Immaterial',
      'Reason',
      'Reopened after',
      'Owner',
      'State',
      'Note',
    ]);
    expect(breaks.rowCount - 1).to.equal(
      run.counts.mismatched + run.counts.dbf_only + run.counts.mongo_only,
    );
    expect(breaks.getRow(1).font?.bold).to.equal(true);
    expect(breaks.views[0]).to.include({ state: 'frozen', ySplit: 1 });
    expect(breaks.autoFilter).to.not.equal(undefined);
    expect(breaks.getColumn(7).width).to.equal(36);
    const mismatch = breaks
      .getRows(2, breaks.rowCount - 1)!
      .find((r) => r.getCell(6).value === '55502')!;
    expect(mismatch.getCell(10).value).to.equal(49.5);
    expect(typeof mismatch.getCell(8).value).to.equal('number');
    // 49.5 units at KARVY's LNAV 25.5: Rs 1,262.25, a number with two decimals shown.
    expect(mismatch.getCell(11).value).to.equal(25.5);
    expect(mismatch.getCell(13).value).to.equal(1262.25);
    expect(breaks.getColumn(13).numFmt).to.equal('#,##0.00');
    const summary = wb.getWorksheet('Summary')!;
    const text = JSON.stringify(summary.getSheetValues());
    expect(text)
      .to.contain(run.runId)
      .and.contain(run.sources.CAMS.files[0].sha256)
      .and.contain('Persisting');
  });

  it('renders the HTML report in headless Chromium with the sortable break table and takes a screenshot', async () => {
    const chromium = findBinary('chromium', 'RECON_TEST_CHROMIUM');
    const path = join(world.dir, 'report.html');
    await writeReport(data, 'html', path);
    const html = await readFile(path, 'utf8');
    expect(html).to.not.match(/<(script|link|img)[^>]+(src|href)=["']https?:/);
    mkdirSync(outputDir, { recursive: true });
    const shot = join(outputDir, 'report.png');
    const flags = [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${join(world.dir, 'chromium-profile')}`,
    ];
    const dom = execFileSync(chromium, [...flags, '--dump-dom', `file://${path}`], {
      encoding: 'utf8',
      timeout: 60_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    // The page renders the rows in view (a few here: all of them) and counts every break in its
    // totals.
    expect((dom.match(/<tr class="row">/g) ?? []).length).to.equal(data.breaks.length);
    expect(dom).to.contain(`<b id="total-count">${data.breaks.length}</b>`);
    expect(dom).to.contain('>Difference</th>');
    execFileSync(
      chromium,
      [...flags, `--screenshot=${shot}`, '--window-size=1280,1400', `file://${path}`],
      { timeout: 60_000, stdio: 'ignore' },
    );
    expect(statSync(shot).size).to.be.greaterThan(10_000);
  });

  it('writes every configured report after a run and posts a new-breaks alert to the webhook', async () => {
    received.length = 0;
    const written = await afterRun(loaded, run, quietLogger);
    expect(written.map((p) => p.split('.').pop())).to.deep.equal(['xlsx', 'html', 'csv', 'json']);
    for (const p of written) expect(statSync(p).size).to.be.greaterThan(100);
    expect(received.map((a) => a.kind)).to.deep.equal(['new_breaks']);
    expect(received[0]).to.include({ runId: run.runId, newBreaks: 8 });
  });

  it('alerts when a run fails, and a dead webhook never fails the run', async () => {
    received.length = 0;
    const failed: RunSummary = {
      ...run,
      runId: 'r-failed',
      status: 'failed',
      error: {
        code: 'RECON_DBF_NUMBER',
        message: 'cams.dbf: record 5 field UNITS is not a number',
      },
    };
    await afterRun(loaded, failed, quietLogger);
    expect(received.map((a) => a.kind)).to.deep.equal(['run_failed']);
    expect(String(received[0].message)).to.contain('RECON_DBF_NUMBER');
    const dead = {
      ...loaded,
      config: {
        ...loaded.config,
        reports: undefined,
        alerts: { webhook: 'http://127.0.0.1:1/hook', timeoutSeconds: 2, newBreaksThreshold: 0 },
      },
    };
    expect(await afterRun(dead, failed, quietLogger)).to.deep.equal([]);
  });

  it('alerts (daemon) for each source whose file has not arrived by the deadline', async () => {
    received.length = 0;
    const daemon = new Daemon(
      {
        ...loaded,
        config: {
          ...loaded.config,
          schedule: {
            cron: '0 0 5 * * *',
            timezone: 'Asia/Kolkata',
            graceSeconds: 0,
            leaseSeconds: 60,
            leaseName: 'x',
            force: false,
          },
        },
      },
      quietLogger,
    );
    try {
      expect(await daemon.checkArrivals()).to.deep.equal(['CAMS', 'KARVY']);
      expect(received.map((a) => [a.kind, a.source])).to.deep.equal([
        ['file_missing', 'CAMS'],
        ['file_missing', 'KARVY'],
      ]);
    } finally {
      await daemon.stop(0);
    }
  });

  it('lists runs and current breaks from the CLI, filtered, and writes a report by as-of day', async () => {
    const env = mongoEnv();
    const cfg = join(world.dir, 'recon.config.yaml');
    const runs = JSON.parse(
      (await exec(process.execPath, [cli, 'runs', '--config', cfg, '--json'], { env })).stdout,
    );
    expect(runs[0]).to.include({
      runId: run.runId,
      status: 'committed',
      asOf: '2024-12-24 2024-12-24',
    });
    const mism = JSON.parse(
      (
        await exec(
          process.execPath,
          [cli, 'breaks', '--config', cfg, '--status', 'mismatched', '--json'],
          { env },
        )
      ).stdout,
    );
    expect(mism.map((b: { folio_no: string }) => b.folio_no).sort()).to.deep.equal([
      '5000',
      '55502',
    ]);
    const karvy = JSON.parse(
      (
        await exec(
          process.execPath,
          [cli, 'breaks', '--config', cfg, '--source', 'karvy', '--min-age', '0', '--json'],
          { env },
        )
      ).stdout,
    );
    expect(karvy.every((b: { source: string }) => b.source === 'KARVY')).to.equal(true);
    const table = (await exec(process.execPath, [cli, 'runs', '--config', cfg], { env })).stdout;
    expect(table.split('\n')[0]).to.match(/^run\s+status\s+as-of/);
    const out = join(world.dir, 'by-day.csv');
    await exec(
      process.execPath,
      [cli, 'report', '--config', cfg, '--as-of', '2024-12-24', '--format', 'csv', '--out', out],
      { env },
    );
    const lines = (await readFile(out, 'utf8')).trim().split('\n');
    expect(lines).to.have.length(1 + data.breaks.length);
    expect(lines[0].split(',').slice(-9)).to.deep.equal([
      'nav',
      'nav_source',
      'value',
      'immaterial',
      'reason',
      'reopened_after',
      'owner',
      'state',
      'note',
    ]);
    // Largest value first: CAMS B03/6000, -75.125 units at NAV 101.25 = -7,606.40625, to the paisa
    // -7,606.41.
    expect(lines[1]).to.match(/^CAMS,dbf_only,.*,6000,.*,101.25,file,-7606.41,false,/);
  });
});
