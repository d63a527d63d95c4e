import { expect } from 'chai';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { csvCell, CsvWriter } from '../../core/csv.js';
import { type ReconRow } from '../../core/reconcile.js';
import { resultDocument } from '../../core/store/documents.js';
import { COLUMNS, FileStore, writeUnits } from '../../core/store/files.js';
import { unitsToNumber } from '../../core/fixed-point.js';
import type { RunSummary } from '../../core/store/types.js';
import { summaryOf } from '../../fixtures/summary.js';

/** The files store's writer before the shared one: a line per row, each handed to the stream. */
function previousResultsCsv(run: RunSummary, rows: readonly ReconRow[]): string {
  const cell = (value: unknown): string => {
    if (value === null || value === undefined) return '';
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    const text =
      value instanceof Date
        ? value.toISOString()
        : typeof value === 'object'
          ? JSON.stringify(value)
          : String(value);
    return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  let out = COLUMNS.join(',') + '\n';
  for (const row of rows) {
    const doc = resultDocument(run, row);
    out += COLUMNS.map((c) => cell(doc[c])).join(',') + '\n';
  }
  return out;
}

const run: RunSummary = summaryOf({
  runId: 'r-csv',
  status: 'running',
  startedAt: new Date('2024-12-25T03:04:05.678Z'),
  finishedAt: null,
  sourceNames: ['CAMS', 'KARVY'],
});

const base: ReconRow = {
  source: 'CAMS',
  status: 'matched',
  asOf: '2024-12-24',
  productCode: 'B01',
  folio: '0001234',
  schemeName: 'Plain Growth',
  dbfUnits: 9_162_530,
  mongoUnits: 9_162_530,
  difference: 0,
  dbfRows: 1,
  decimals: 3,
};
const brk: Partial<ReconRow> = {
  firstSeen: '2024-12-01',
  ageDays: 23,
  lifecycle: 'persisting',
  nav: 1_012_345,
  navSource: 'file',
  valuePaise: -760_641,
  immaterial: false,
};

/** Rows with every kind of text a cell can hold, and every shape of break. */
const awkward: ReconRow[] = [
  base,
  { ...base, schemeName: 'Equity, Growth' },
  { ...base, schemeName: 'The "Flexi" Cap' },
  { ...base, schemeName: 'line one\nline two' },
  { ...base, schemeName: 'carriage\rreturn' },
  { ...base, schemeName: 'windows\r\nline, "both"' },
  { ...base, schemeName: 'Fundusz Łódź — निफ्टी 50 ₹ 📈' },
  { ...base, schemeName: null },
  { ...base, schemeName: '' },
  { ...base, productCode: 'B,02', folio: '"9"' },
  {
    ...base,
    ...brk,
    status: 'mismatched',
    mongoUnits: 8_000_000,
    difference: -1_162_530,
    reason: { code: 'timing', transactionIds: ['t1', 'id "quoted", comma'] },
  },
  {
    ...base,
    ...brk,
    source: null,
    status: 'mongo_only',
    dbfUnits: null,
    difference: 5,
    dbfRows: 0,
    lifecycle: 'reopened',
    reopenedAfter: '2024-12-10',
    reason: { code: 'probable_key_mismatch', pair: { productCode: 'B01', folio: '1234' } },
    nav: null,
    navSource: null,
    valuePaise: null,
  },
  { ...base, dbfUnits: 0, mongoUnits: -4, difference: -4 },
  { ...base, dbfUnits: 5, mongoUnits: 4_503_599_627_370_495, difference: -9_007_199_254_740_991 },
  { ...base, decimals: 0, dbfUnits: 15_000, mongoUnits: 25_000, difference: -5_000 },
  {
    ...base,
    ...brk,
    source: 'KARVY',
    status: 'dbf_only',
    mongoUnits: null,
    difference: -9_162_530,
    decimals: 4,
    immaterial: true,
    valuePaise: -1,
  },
  // File rows the ledger lacks (their difference cell is their units cell negated), new and of
  // this day, next to one with a reason and the same age: every run of repeated cells is broken.
  { ...base, ...brk, status: 'dbf_only', dbfUnits: 0, mongoUnits: null, difference: 0 },
  {
    ...base,
    ...brk,
    status: 'dbf_only',
    dbfUnits: -4_500,
    mongoUnits: null,
    difference: 4_500,
    navSource: 'ledger',
    lifecycle: 'new',
    firstSeen: '2024-12-24',
    ageDays: 0,
    reason: { code: 'pledged' },
  },
  {
    ...base,
    ...brk,
    status: 'dbf_only',
    dbfUnits: 12_345_678_951,
    mongoUnits: null,
    difference: -12_345_678_951,
    decimals: 2,
    lifecycle: 'new',
    firstSeen: '2024-12-24',
    ageDays: 0,
  },
];

describe('the CSV writer', () => {
  it('quotes cells with a comma, quote, CR or LF, doubles quotes, and leaves null empty', () => {
    expect(csvCell('a,b')).to.equal('"a,b"');
    expect(csvCell('say "hi"')).to.equal('"say ""hi"""');
    expect(csvCell('a\rb')).to.equal('"a\rb"');
    expect(csvCell('a\nb')).to.equal('"a\nb"');
    expect(csvCell('plain')).to.equal('plain');
    expect(csvCell(null)).to.equal('');
    expect(csvCell(undefined)).to.equal('');
    expect(csvCell(-0.5)).to.equal('-0.5');
    expect(csvCell(false)).to.equal('false');
    expect(csvCell(new Date('2024-12-24T18:30:00Z'))).to.equal('2024-12-24T18:30:00.000Z');
    expect(csvCell({ pair: 'x,y' })).to.equal('"{""pair"":""x,y""}"');
  });

  it('writes the same bytes whatever the chunk size, and csv-parse reads back every value', async () => {
    const rows = awkward.map((r) => resultDocument(run, r));
    const write = async (chunkBytes: number) => {
      const out = new PassThrough();
      const parts: Buffer[] = [];
      out.on('data', (b: Buffer) => parts.push(b));
      const w = new CsvWriter(out, chunkBytes);
      w.line(COLUMNS);
      for (const r of rows) {
        w.line(COLUMNS.map((c) => r[c]));
        if (w.full) await w.flush();
      }
      await w.end();
      return Buffer.concat(parts).toString('utf8');
    };
    const big = await write(1 << 20);
    expect(await write(16)).to.equal(big);
    expect(big).to.equal(
      [COLUMNS, ...rows.map((r) => COLUMNS.map((c) => r[c]))]
        .map((cells) => cells.map(csvCell).join(',') + '\n')
        .join(''),
    );
    const back = parse(big, { columns: true }) as Record<string, string>[];
    expect(back.map((r) => r.scheme_name)).to.deep.equal(rows.map((r) => r.scheme_name ?? ''));
    expect(back.map((r) => r.folio_no)).to.deep.equal(rows.map((r) => r.folio_no));
  });

  it('writes a file through buffers used again once written, and keeps copies of the cells it is asked to keep', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'csv-chunks-'));
    try {
      const path = join(dir, 'out.csv');
      const w = new CsvWriter(createWriteStream(path), 64);
      const at = w.mark();
      w.text('first');
      w.number(1);
      const kept = w.since(at);
      w.endLine();
      const expected = ['first,1'];
      for (let i = 2; i <= 3000; i++) {
        w.text(`line ${i}`);
        w.number(i * 7);
        w.endLine();
        expected.push(`line ${i},${i * 7}`);
        if (w.full) await w.flush();
      }
      await w.end();
      expect(await readFile(path, 'utf8')).to.equal(expected.join('\n') + '\n');
      expect(Buffer.from(kept).toString()).to.equal('first,1,');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('writes units from the integer exactly as String() writes the stored number', async () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
    const cases: [number, number][] = [
      [-4, 3],
      [9_162_530, 3],
      [-10_000, 4],
      [0, 4],
      [-9_007_199_254_740_991, 4],
      [9_007_199_254_740_991, 0],
      [2_147_483_647, 0],
      [2_147_483_648, 0],
      [-100_000_000_005, 0],
      [999_999_999_999_999, 0],
      [100_000_000_000_000, 4],
    ];
    for (let i = 0; i < 200_000; i++) {
      const magnitude = 10 ** (next() % 17);
      cases.push([Math.round((next() / 2147483648 - 0.5) * 2 * magnitude), next() % 6]);
    }
    const out = new PassThrough();
    const parts: Buffer[] = [];
    out.on('data', (b: Buffer) => parts.push(b));
    const w = new CsvWriter(out, 4096);
    for (const [units, decimals] of cases) {
      writeUnits(w, units, decimals);
      w.endLine();
      if (w.full) await w.flush();
    }
    await w.end();
    const lines = Buffer.concat(parts).toString('utf8').split('\n');
    const expected = cases.map(([units, decimals]) => String(unitsToNumber(units, decimals)));
    expect(lines.slice(0, 4)).to.deep.equal(['0', '916.253', '-1', '0']);
    expect(lines.slice(0, -1)).to.deep.equal(expected);
  });

  it('writes results.csv byte for byte as the files store did before it gathered lines into chunks', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'recon-csv-'));
    try {
      const many = Array.from({ length: 20_000 }, (_, i) => ({
        ...awkward[i % awkward.length],
        folio: String(i),
      }));
      const store = new FileStore(dir);
      await store.begin(run);
      await store.writeRows(run, many.slice(0, 7_000));
      await store.writeRows(run, many.slice(7_000));
      await store.commit(run);
      const written = await readFile(join(store.runDir(run.runId), 'results.csv'));
      const expected = Buffer.from(previousResultsCsv(run, many), 'utf8');
      expect(written.length).to.be.greaterThan(2 << 20);
      expect(written.equals(expected)).to.equal(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
