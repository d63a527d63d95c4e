import { expect } from 'chai';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { byValue, closeReport, type BreakLine, type ReportData } from '../../core/report/data.js';
import { SortedRows } from '../../core/report/sorted-rows.js';
import { writeReport } from '../../core/report/write.js';
import { deskReport } from '../../fixtures/desk-report.js';

async function* each<T>(rows: readonly T[]): AsyncGenerator<T> {
  yield* rows;
}

/** The report with its breaks sorted on disk in runs of `runRows`. */
async function spilled(data: ReportData<BreakLine[]>, runRows: number): Promise<ReportData> {
  return { ...data, breaks: await SortedRows.from(each(data.breaks), byValue, runRows) };
}

describe('report writers', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recon-report-test-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('sorts breaks kept in runs on disk exactly as one stable sort of them all, and reads them again', async () => {
    const rows = deskReport(500).breaks;
    // Ties on every sort key: only their reading order tells them apart.
    for (let i = 0; i < 40; i++) rows.push({ ...rows[i * 7], note: `tie ${i}` });
    const expected = [...rows].sort(byValue);
    // Runs of 16 rows, doubling every 4 runs: 4 × 16, 4 × 32, 4 × 64, then 92 rows in one.
    const sorted = await SortedRows.from(each(rows), byValue, 16, 4);
    try {
      expect(sorted.length).to.equal(rows.length);
      expect(sorted.runs).to.equal(13);
      for (let pass = 0; pass < 2; pass++) {
        const got: BreakLine[] = [];
        for await (const b of sorted) got.push(b);
        expect(got).to.deep.equal(expected);
      }
    } finally {
      await sorted.close();
    }
  });

  it('writes JSON byte for byte as JSON.stringify of the whole report, breaks in memory or streamed', async () => {
    const data = deskReport(300);
    data.breaks.sort(byValue);
    const expected = JSON.stringify(data, null, 2) + '\n';
    await writeReport(data, 'json', join(dir, 'a.json'));
    expect(await readFile(join(dir, 'a.json'), 'utf8')).to.equal(expected);
    const streamed = await spilled(data, 32);
    await writeReport(streamed, 'json', join(dir, 'b.json')).finally(() => closeReport(streamed));
    expect(await readFile(join(dir, 'b.json'), 'utf8')).to.equal(expected);
    const none = { ...data, breaks: [] };
    await writeReport(none, 'json', join(dir, 'c.json'));
    expect(await readFile(join(dir, 'c.json'), 'utf8')).to.equal(
      JSON.stringify(none, null, 2) + '\n',
    );
  });

  it('quotes a note holding a carriage return in the CSV report, so a reader keeps it in its cell', async () => {
    const data = deskReport(5);
    data.breaks[1].note = 'called\rthe RTA';
    data.breaks[3].note = 'said "no", twice';
    data.breaks[2].note = 'line\nbreak';
    await writeReport(data, 'csv', join(dir, 'r.csv'));
    const text = await readFile(join(dir, 'r.csv'), 'utf8');
    expect(text).to.contain(',"called\rthe RTA"\n').and.contain(',"said ""no"", twice"\n');
    const back = parse(text, { columns: true }) as Record<string, string>[];
    expect(back.map((r) => r.note)).to.deep.equal(data.breaks.map((b) => b.note ?? ''));
    expect(back.map((r) => r.folio_no)).to.deep.equal(data.breaks.map((b) => b.folio_no));
  });

  it('embeds every break in the HTML page in order, with `<` escaped inside the script', async () => {
    const data = deskReport(50);
    data.breaks.sort(byValue);
    data.breaks[3].note = '</script><b>x</b>';
    const streamed = await spilled(data, 8);
    await writeReport(streamed, 'html', join(dir, 'p.html')).finally(() => closeReport(streamed));
    const page = await readFile(join(dir, 'p.html'), 'utf8');
    expect(page).to.not.contain('</script><b>');
    const rows = JSON.parse(/^const ROWS = (.*);$/m.exec(page)![1]) as unknown[][];
    expect(rows.map((r) => r[7])).to.deep.equal(data.breaks.map((b) => b.folio_no));
    expect(rows[3]).to.include('</script><b>x</b>');
    expect(page).to.not.contain('\u0000');
  });

  it('continues the breaks on "Breaks 2", "Breaks 3" when a sheet is full, each sheet with its header', async () => {
    const data = deskReport(12);
    data.breaks.sort(byValue);
    const path = join(dir, 'split.xlsx');
    const streamed = await spilled(data, 5);
    await writeReport(streamed, 'xlsx', path, { sheetRows: 5 }).finally(() =>
      closeReport(streamed),
    );
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(path);
    expect(wb.worksheets.map((w) => w.name)).to.deep.equal([
      'Summary',
      'Breaks',
      'Breaks 2',
      'Breaks 3',
    ]);
    const folios: unknown[] = [];
    for (const name of ['Breaks', 'Breaks 2', 'Breaks 3']) {
      const sheet = wb.getWorksheet(name)!;
      expect(sheet.rowCount, name).to.equal(5);
      expect(sheet.getRow(1).getCell(6).value).to.equal('Folio');
      expect(sheet.getRow(1).font?.bold).to.equal(true);
      expect(sheet.views[0]).to.include({ state: 'frozen', ySplit: 1 });
      for (let r = 2; r <= sheet.rowCount; r++) folios.push(sheet.getRow(r).getCell(6).value);
    }
    expect(folios).to.deep.equal(data.breaks.map((b) => b.folio_no));
  });

  it('writes one header-only break sheet when there is no break', async () => {
    const path = join(dir, 'empty.xlsx');
    await writeReport({ ...deskReport(0), breaks: [] }, 'xlsx', path);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(path);
    expect(wb.worksheets.map((w) => w.name)).to.deep.equal(['Summary', 'Breaks']);
    expect(wb.getWorksheet('Breaks')!.rowCount).to.equal(1);
  });
});
