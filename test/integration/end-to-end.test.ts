import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdir, readFile, readdir, rm, truncate, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import type { Db } from 'mongodb';
import type { RunSummary } from '../../core/store/types.js';
import { AS_OF, type ExpectedRow } from '../../fixtures/scenario.js';
import {
  CAMS_FIELDS,
  patchField,
  withoutColumn,
  writeCamsFile,
} from '../../fixtures/registrar-files.js';
import { IGNORE_DIVIDEND, mongoConfigYaml } from '../support/config.js';
import { countResults, testMongoUri } from '../support/database.js';
import { makeDay, useDay } from '../support/day.js';
import { runOnce } from '../support/run.js';

const exec = promisify(execFile);
const cli = fileURLToPath(new URL('../../core/cli.js', import.meta.url));

type Stored = ExpectedRow & { scheme_name: string | null };

async function storedRows(db: Db, runId?: string): Promise<Stored[]> {
  const filter = runId ? { reconciliation_run_id: runId } : {};
  const docs = await db
    .collection('reconciliation_results')
    .find(filter, { projection: { _id: 0 } })
    .toArray();
  return docs as unknown as Stored[];
}

function byKey<T extends { source: string | null; product_code: string; folio_no: string }>(
  rows: T[],
): T[] {
  return [...rows].sort((a, b) =>
    `${a.source}|${a.product_code}|${a.folio_no}`.localeCompare(
      `${b.source}|${b.product_code}|${b.folio_no}`,
    ),
  );
}

function comparable(rows: Stored[]): ExpectedRow[] {
  return byKey(rows).map((r) => ({
    source: r.source,
    status: r.status,
    product_code: r.product_code,
    folio_no: r.folio_no,
    dbf_units: r.dbf_units,
    mongo_units: r.mongo_units,
    difference: r.difference,
    dbf_rows: r.dbf_rows,
  }));
}

describe('end to end against a real MongoDB-wire server', function () {
  this.timeout(120_000);
  const world = useDay('e2e', { scenario: { decimal128: 'auto' } });

  async function run(extraLedger = IGNORE_DIVIDEND, force = true): Promise<RunSummary> {
    const loaded = await world.config(mongoConfigYaml(world.database, extraLedger));
    return runOnce(loaded, { force });
  }

  it('stores every key with the status, units and row count computed by hand', async () => {
    const summary = await run();
    expect(summary.error).to.equal(null);
    expect(summary.status).to.equal('committed');
    const rows = await storedRows(world.db, summary.runId);
    expect(comparable(rows)).to.deep.equal(byKey(world.scenario.expected));
    for (const r of rows) {
      expect((r as unknown as { as_of_date: string }).as_of_date).to.equal(AS_OF);
      expect((r as unknown as { reconciliation_run_id: string }).reconciliation_run_id).to.equal(
        summary.runId,
      );
    }
    expect(
      rows.find((r) => r.folio_no === '1014433353' && r.product_code === 'B01')?.scheme_name,
    ).to.equal('Scheme B01');
    expect(rows.find((r) => r.folio_no === '9000')?.scheme_name).to.equal('Scheme');
  });

  it('gives the same rows and counts when the ledger is aggregated on the client (ledger.aggregation: client)', async () => {
    const summary = await run(`${IGNORE_DIVIDEND}, aggregation: client`);
    expect(summary.status, JSON.stringify(summary.error)).to.equal('committed');
    expect(comparable(await storedRows(world.db, summary.runId))).to.deep.equal(
      byKey(world.scenario.expected),
    );
    expect(summary.closedPositions).to.equal(world.scenario.closed);
    const { missingKey, nonNumericUnits, badDate, ignoredTypes } = summary.ledger[0];
    expect({ missingKey, nonNumericUnits, badDate }).to.deep.equal(world.scenario.anomalies);
    expect(ignoredTypes).to.deep.equal(world.scenario.ignoredTypes);
  });

  it('records deleted rows, closed positions, ignored types and uncounted transactions in the run document', async () => {
    const summary = await run();
    const doc = await world.db
      .collection('reconciliation_runs')
      .findOne({ _id: summary.runId as never });
    expect(doc?.status).to.equal('committed');
    expect(doc?.sources.CAMS.deleted).to.equal(world.scenario.deleted.CAMS);
    expect(doc?.sources.KARVY.deleted).to.equal(world.scenario.deleted.KARVY);
    expect(doc?.sources.CAMS.as_of_date).to.equal(AS_OF);
    expect(doc?.sources.CAMS.files[0].sha256).to.match(/^[0-9a-f]{64}$/);
    expect(doc?.sources.CAMS.files[0].records).to.equal(11);
    expect(doc?.closed_positions).to.equal(world.scenario.closed);
    expect(doc?.counts).to.deep.equal({ matched: 9, mismatched: 2, dbf_only: 3, mongo_only: 3 });
    const ledger = doc?.ledger[0];
    expect(ledger.cutoff).to.equal('2024-12-24T18:30:00.000Z');
    const { anomalies } = world.scenario;
    expect(ledger).to.include({
      missing_key: anomalies.missingKey,
      non_numeric_units: anomalies.nonNumericUnits,
      bad_date: anomalies.badDate,
    });
    expect(ledger.ignored_types).to.deep.equal(world.scenario.ignoredTypes);
  });

  it('leaves exactly one set of results for the as-of day after running twice, identical to the first', async () => {
    const first = await run();
    const firstRows = comparable(await storedRows(world.db, first.runId));
    // Without --force the second run sees files a committed run already reconciled and publishes
    // nothing.
    const again = await run(IGNORE_DIVIDEND, false);
    expect(again.status).to.equal('skipped');
    expect(again.skippedSources).to.deep.equal(['CAMS', 'KARVY']);
    expect(
      (await world.db.collection('reconciliation_runs').findOne({ _id: again.runId as never }))
        ?.status,
    ).to.equal('skipped');
    let all = await storedRows(world.db);
    expect(
      new Set(
        all.map((r) => (r as unknown as { reconciliation_run_id: string }).reconciliation_run_id),
      ),
    ).to.deep.equal(new Set([first.runId]));
    // With --force it reconciles again and replaces the day's results with an identical set.
    const second = await run(IGNORE_DIVIDEND, true);
    expect(second.status).to.equal('committed');
    all = await storedRows(world.db);
    expect(
      new Set(
        all.map((r) => (r as unknown as { reconciliation_run_id: string }).reconciliation_run_id),
      ),
    ).to.deep.equal(new Set([second.runId]));
    expect(comparable(all)).to.deep.equal(firstRows);
  });

  it('fails on an unmapped transaction type naming it and its count, keeping the committed results visible', async () => {
    const good = await run();
    const bad = await run('');
    expect(bad.status).to.equal('failed');
    expect(bad.error?.code).to.equal('RECON_LEDGER_UNMAPPED_TYPE');
    expect(bad.error?.message).to.contain('DIVIDEND (1)');
    const doc = await world.db
      .collection('reconciliation_runs')
      .findOne({ _id: bad.runId as never });
    expect(doc?.status).to.equal('failed');
    expect(await storedRows(world.db, bad.runId)).to.have.length(0);
    expect(await storedRows(world.db, good.runId)).to.have.length(world.scenario.expected.length);
  });

  it('runs the CLI with --json and exits 0 for a committed run', async () => {
    await world.config(mongoConfigYaml(world.database, IGNORE_DIVIDEND));
    const { stdout } = await exec(
      process.execPath,
      [
        cli,
        'run',
        '--config',
        join(world.dir, 'recon.config.yaml'),
        '--json',
        '--force',
        '--log-level',
        'silent',
      ],
      { env: { ...process.env, MONGO_URI: testMongoUri() } },
    );
    const out = JSON.parse(stdout);
    expect(out.status).to.equal('committed');
    expect(out.sources.CAMS.asOf).to.equal(AS_OF);
    expect(out.sources.KARVY.counts).to.deep.equal({
      matched: 3,
      mismatched: 1,
      dbf_only: 1,
      mongo_only: 1,
    });
    expect(out.counts).to.deep.equal({ matched: 9, mismatched: 2, dbf_only: 3, mongo_only: 3 });
  });

  it('reconciles the same files offline (ndjson ledger with Decimal128, files store) to the same rows', async () => {
    const off = await makeDay('offline', { offline: true, scenario: { decimal128: true } });
    try {
      const s = off.scenario;
      expect(await readFile(off.path('ledger.ndjson'), 'utf8')).to.contain('$numberDecimal');
      const loaded = await off.config(
        `ledger: { type: ndjson, path: ./ledger.ndjson, ignoreTypes: [DIVIDEND] }
store: { type: files, dir: ./out }
sources:
  - { name: CAMS,  plugin: cams,  fetch: { type: local, dir: ./incoming, pattern: "CAMS*.DBF" } }
  - { name: KARVY, plugin: karvy, fetch: { type: local, dir: ./incoming, pattern: "karvy*.dbf" } }
`,
      );
      const summary = await runOnce(loaded);
      expect(summary.status, JSON.stringify(summary.error)).to.equal('committed');
      const csv = (await readFile(off.path('out', 'runs', summary.runId, 'results.csv'), 'utf8'))
        .trim()
        .split('\n');
      const header = csv[0].split(',');
      const rows = csv
        .slice(1)
        .map((line) => Object.fromEntries(line.split(',').map((v, i) => [header[i], v])));
      const asExpected = rows.map((r) => ({
        source: r.source === '' ? null : r.source,
        status: r.status,
        product_code: r.product_code,
        folio_no: r.folio_no,
        dbf_units: r.dbf_units === '' ? null : Number(r.dbf_units),
        mongo_units: r.mongo_units === '' ? null : Number(r.mongo_units),
        difference: Number(r.difference),
        dbf_rows: Number(r.dbf_rows),
      }));
      expect(byKey(asExpected)).to.deep.equal(byKey(s.expected));
      const runJson = JSON.parse(
        await readFile(off.path('out', 'runs', summary.runId, 'run.json'), 'utf8'),
      );
      expect(runJson.status).to.equal('committed');
      expect(runJson.closed_positions).to.equal(1);
    } finally {
      await off.remove();
    }
  });
});

describe('bad input fails the run with a coded error and publishes nothing', function () {
  this.timeout(120_000);
  const world = useDay('bad', { folder: 'good', scenario: true });
  let committedRunId: string;

  before(async () => {
    await mkdir(join(world.dir, 'incoming'));
  });

  beforeEach(async () => {
    for (const f of await readdir(join(world.dir, 'incoming')))
      await rm(join(world.dir, 'incoming', f));
    for (const f of await readdir(join(world.dir, 'good')))
      await copyFile(join(world.dir, 'good', f), join(world.dir, 'incoming', f));
    if (!committedRunId) {
      const loaded = await world.config(mongoConfigYaml(world.database, IGNORE_DIVIDEND));
      const ok = await runOnce(loaded);
      expect(ok.status).to.equal('committed');
      committedRunId = ok.runId;
    }
  });

  async function expectFailure(
    code: string,
    context: { file: string; record?: number; field?: string },
  ) {
    const loaded = await world.config(mongoConfigYaml(world.database, IGNORE_DIVIDEND));
    const summary = await runOnce(loaded, { force: true });
    expect(summary.status).to.equal('failed');
    expect(summary.error).to.include({ code, ...context });
    const doc = await world.db
      .collection('reconciliation_runs')
      .findOne({ _id: summary.runId as never });
    expect(doc?.status).to.equal('failed');
    expect(doc?.error.code).to.equal(code);
    expect(await countResults(world.db, summary.runId)).to.equal(0);
    expect(await countResults(world.db, committedRunId)).to.be.greaterThan(0);
    return summary;
  }

  it('rejects a truncated DBF naming the file and the record it ends in', async () => {
    const file = join(world.dir, 'incoming', 'karvy_20241224.dbf');
    const { size } = await import('node:fs/promises').then((fs) => fs.stat(file));
    await truncate(file, size - 400);
    const s = await expectFailure('RECON_DBF_TRUNCATED', { file: 'karvy_20241224.dbf', record: 6 });
    expect(s.error?.message).to.contain('declares 6 records');
  });

  it('rejects a file missing a required column, listing expected and actual columns', async () => {
    await writeCamsFile(
      join(world.dir, 'incoming', 'cams_20241224.dbf'),
      [{ product: 'B01', folio: '1', units: 1, asOf: '24-Dec-2024' }],
      withoutColumn(CAMS_FIELDS, 'UNITS'),
    );
    const s = await expectFailure('RECON_DBF_COLUMNS', { file: 'cams_20241224.dbf' });
    expect(s.error?.message).to.contain('units (UNITS or CLOS_UNITS)');
    expect(s.error?.message).to.contain('PRODUCT');
  });

  it('rejects an unparseable as-of date naming file, record and field', async () => {
    await patchField(
      join(world.dir, 'incoming', 'cams_20241224.dbf'),
      0,
      'ASSET_DATE',
      '2024-12-24',
    );
    const s = await expectFailure('RECON_DBF_DATE', {
      file: 'cams_20241224.dbf',
      record: 1,
      field: 'ASSET_DATE',
    });
    expect(s.error?.rawHex).to.match(/^[0-9a-f]+$/);
  });

  it('rejects non-numeric units naming file, record and field, and the CLI exits non-zero with one coded line', async () => {
    await patchField(join(world.dir, 'incoming', 'karvy_20241224.dbf'), 4, 'BALUNITS', '12.5O');
    await expectFailure('RECON_DBF_NUMBER', {
      file: 'karvy_20241224.dbf',
      record: 5,
      field: 'BALUNITS',
    });
    const result = await exec(
      process.execPath,
      [
        cli,
        'run',
        '--config',
        join(world.dir, 'recon.config.yaml'),
        '--force',
        '--log-level',
        'silent',
      ],
      { env: { ...process.env, MONGO_URI: testMongoUri() } },
    ).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    expect(result?.code).to.equal(3);
    expect(result?.stderr.trim().split('\n')).to.have.length(1);
    expect(result?.stderr).to.match(
      /^recon: RECON_DBF_NUMBER: karvy_20241224\.dbf: record 5 field BALUNITS/,
    );
  });
});
