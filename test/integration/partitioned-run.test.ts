import { expect } from 'chai';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateFile, rowAt, type Shape } from '../../fixtures/generate.js';
import { loadConfig } from '../../config/load.js';
import { unitsToNumber } from '../../core/fixed-point.js';
import { keyOf } from '../../core/keys/text-key.js';
import { runOnce } from '../support/run.js';
import { useDay } from '../support/day.js';

/** Live rows of a generated file summed per key, as the registrar means them. */
function fileSums(
  shape: Shape,
  fileNo: number,
  rows: number,
): Map<string, { product: string; folio: string; units: number; rows: number }> {
  const out = new Map<string, { product: string; folio: string; units: number; rows: number }>();
  for (let i = 0; i < rows; i++) {
    const r = rowAt(shape, fileNo, i);
    if (r.deleted) continue;
    const key = keyOf(r.product, r.folio);
    const cur = out.get(key) ?? { product: r.product, folio: r.folio, units: 0, rows: 0 };
    cur.units += r.units;
    cur.rows++;
    out.set(key, cur);
  }
  return out;
}

describe('a run big enough to be cut into merge partitions (offline)', function () {
  this.timeout(120_000);
  const world = useDay('partitioned', { offline: true, folder: false });

  it('gives every key of two sources the status a plain lookup gives, across ranges, partitions and threads', async () => {
    await mkdir(join(world.dir, 'incoming'));
    const karvyRows = 45_000,
      camsRows = 25_000;
    generateFile(join(world.dir, 'incoming', 'karvy.dbf'), 'karvy', karvyRows, 0);
    generateFile(join(world.dir, 'incoming', 'cams.dbf'), 'cams', camsRows, 1);
    const karvy = fileSums('karvy', 0, karvyRows),
      cams = fileSums('cams', 1, camsRows);
    // The ledger: per key, nothing (dbf_only), the file's units (matched), within tolerance
    // (matched) or one unit off (mismatched); plus positions no file lists.
    const tx: string[] = [];
    const expected = new Map<
      string,
      {
        source: string | null;
        status: string;
        dbf: number | null;
        mongo: number | null;
        rows: number;
      }
    >();
    const add = (product: string, folio: string, units: number) =>
      tx.push(
        JSON.stringify({
          product_code: product,
          folio_no: folio,
          units: units / 10_000,
          transaction_type: units < 0 ? 'SELL' : 'BUY',
          transaction_date: { $date: '2024-12-20T10:00:00Z' },
        }).replace(/"units":-/, '"units":'),
      );
    for (const [source, sums] of [
      ['KARVY', karvy],
      ['CAMS', cams],
    ] as const) {
      let n = 0;
      for (const [key, s] of sums) {
        n++;
        const kind = n % 4;
        const mongo =
          kind === 0 ? null : kind === 1 ? s.units : kind === 2 ? s.units + 5 : s.units + 10_000;
        if (mongo !== null) add(s.product, s.folio, mongo);
        expected.set(`${source}/${key}`, {
          source,
          status: mongo === null ? 'dbf_only' : kind === 3 ? 'mismatched' : 'matched',
          dbf: s.units,
          mongo,
          rows: s.rows,
        });
      }
    }
    add('K000', '77', 12_345); // a KARVY product, under a folio no file lists: mongo_only, owner KARVY
    expected.set(`KARVY/${keyOf('K000', '77')}`, {
      source: 'KARVY',
      status: 'mongo_only',
      dbf: null,
      mongo: 12_345,
      rows: 0,
    });
    add('ZZZ9', '0042', 5_000); // a product no file lists: mongo_only of unknown owner
    expected.set(`null/${keyOf('ZZZ9', '0042')}`, {
      source: null,
      status: 'mongo_only',
      dbf: null,
      mongo: 5_000,
      rows: 0,
    });
    add('K002', '88', 7_000);
    add('K002', '88', -7_000); // nets to zero: closed, not stored
    await writeFile(join(world.dir, 'ledger.ndjson'), tx.join('\n'));
    await writeFile(
      join(world.dir, 'recon.config.yaml'),
      `ledger: { type: ndjson, path: ./ledger.ndjson }
store: { type: files, dir: ./out }
reconcile: { tolerance: 0.001 }
pool: { threads: 2, rangeRecords: 7000 }
sources:
  - { name: KARVY, plugin: karvy, fetch: { type: local, dir: ./incoming, pattern: "karvy*.dbf" } }
  - { name: CAMS, plugin: cams, fetch: { type: local, dir: ./incoming, pattern: "cams*.dbf" } }
`,
    );
    const run = await runOnce(await loadConfig({ path: join(world.dir, 'recon.config.yaml') }));
    expect(run.status, JSON.stringify(run.error)).to.equal('committed');
    expect(run.closedPositions).to.equal(1);

    const [header, ...lines] = (
      await readFile(join(world.dir, 'out', 'runs', run.runId, 'results.csv'), 'utf8')
    )
      .trimEnd()
      .split('\n');
    const col = Object.fromEntries(header.split(',').map((c, i) => [c, i]));
    expect(lines).to.have.length(expected.size);
    const seen = new Set<string>();
    const counts: Record<string, number> = {};
    for (const line of lines) {
      const c = line.split(',');
      const source = c[col.source] === '' ? 'null' : c[col.source];
      const id = `${source}/${keyOf(c[col.product_code], c[col.folio_no])}`;
      const e = expected.get(id);
      if (!e) expect.fail(`unexpected row ${line}`);
      const decimals = source === 'CAMS' ? 3 : 4;
      const got = [c[col.status], c[col.dbf_units], c[col.mongo_units], Number(c[col.dbf_rows])];
      const want = [
        e.status,
        e.dbf === null ? '' : String(unitsToNumber(e.dbf, decimals)),
        e.mongo === null ? '' : String(unitsToNumber(e.mongo, e.source === null ? 4 : decimals)),
        e.rows,
      ];
      if (JSON.stringify(got) !== JSON.stringify(want))
        expect.fail(`${id}: ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
      seen.add(id);
      counts[e.status] = (counts[e.status] ?? 0) + 1;
    }
    expect(seen.size).to.equal(expected.size);
    expect(run.counts).to.deep.equal({
      matched: counts.matched,
      mismatched: counts.mismatched,
      dbf_only: counts.dbf_only,
      mongo_only: counts.mongo_only,
    });
    expect(counts.mismatched).to.be.greaterThan(1000);
  });
});
