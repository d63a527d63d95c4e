/**
 * The MongoDB path against the offline one, on the same generated day (bench/offline-day.ts):
 * `recon run` once with the ndjson ledger and the files store, once with the ndjson ledger and the
 * MongoDB store (which stages are the store's), once against FerretDB (the same ledger loaded into
 * it, `aggregation: client`, the MongoDB store), all as child processes, and the stage times side
 * by side with their ratio to the offline run. Fails unless every run commits with the same counts
 * and closed positions, and with the same breaks, field by field, as the stores' readers give
 * them. FerretDB (the tests' build, fixtures/ferretdb.ts) is started on a free loopback port and
 * stopped at the end; with MONGO_URI set that server is used instead.
 *
 * FerretDB 1.24 has no Decimal128, so the ledger's `$numberDecimal` units are loaded as doubles
 * (the same values: at most 4 decimals).
 *
 * Usage: node dist/bench/mongo-day.js [--keys N (per registrar, default 10000)] [--dir PATH]
 * [--rerun (a second, forced run of the same day on FerretDB: replaces the first)]
 * [--cpu-prof DIR (profile the FerretDB runs' main thread)]
 */
import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { BSON, Decimal128, MongoClient, type Document } from 'mongodb';
import { loadConfig } from '../config/load.js';
import { closeMongoClients } from '../core/mongo-client.js';
import { createReader } from '../core/store/reader.js';
import { startFerret } from '../fixtures/ferretdb.js';
import { generateOfflineDay } from './offline-day.js';
import { runRecon } from './whole-run.js';

const { values: flags } = parseArgs({
  options: {
    keys: { type: 'string', default: '10000' },
    dir: { type: 'string', default: join(tmpdir(), 'recon-bench-mongo-day') },
    rerun: { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
  },
});
const keys = Number(flags.keys);
if (!Number.isSafeInteger(keys) || keys < 100) throw new Error(`--keys must be 100 or more`);
const DATABASE = 'recon_bench_day';
const emit = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');

/** Loads the ndjson ledger into a collection, 10,000 documents an insert; returns how many. */
async function loadLedger(uri: string, path: string): Promise<number> {
  const client = await MongoClient.connect(uri);
  try {
    const db = client.db(DATABASE);
    await db.dropDatabase();
    const col = db.collection('wealth_pulse_transactions');
    let batch: Document[] = [];
    let n = 0;
    for await (const line of createInterface({ input: createReadStream(path, 'utf8') })) {
      if (line.length === 0) continue;
      const tx = BSON.EJSON.parse(line, { relaxed: true }) as Document;
      if (tx.units instanceof Decimal128) tx.units = Number(tx.units.toString());
      batch.push(tx);
      if (batch.length === 10_000) {
        await col.insertMany(batch, { ordered: false });
        n += batch.length;
        batch = [];
      }
    }
    if (batch.length > 0) await col.insertMany(batch, { ordered: false });
    return n + batch.length;
  } finally {
    await client.close();
  }
}

const day = await generateOfflineDay(flags.dir, keys, emit);
const dayDir = day.dir;

const tOff = performance.now();
const offline = await runRecon(day.config);
const offlineMs = performance.now() - tOff;
emit({ measure: 'offline', ms: Math.round(offlineMs), ...offline });

const ferret = process.env.MONGO_URI ? null : await startFerret();
try {
  const uri = process.env.MONGO_URI ?? ferret!.uri;
  const tLoad = performance.now();
  const loaded = await loadLedger(uri, join(dayDir, 'ledger.ndjson'));
  emit({ measure: 'load-ledger', transactions: loaded, ms: Math.round(performance.now() - tLoad) });
  const config = join(dayDir, 'recon.mongo.config.yaml');
  await writeFile(
    config,
    `ledger: { type: mongodb, uri: "${uri}", database: ${DATABASE}, collection: wealth_pulse_transactions, aggregation: client }
store: { type: mongodb, uri: "${uri}", database: ${DATABASE} }
sources:
  - { name: CAMS, plugin: cams, fetch: { type: local, dir: ., pattern: "cams_*.dbf" } }
  - { name: KARVY, plugin: karvy, fetch: { type: local, dir: ., pattern: "karvy_*.dbf" } }
`,
  );
  // The ndjson ledger with the MongoDB store (a database of its own): the same store as the
  // FerretDB run, so a stage's time there that is not the ledger's shows as the store's.
  const storeOnly = join(dayDir, 'recon.store-only.config.yaml');
  await writeFile(
    storeOnly,
    `ledger: { type: ndjson, path: ./ledger.ndjson }
store: { type: mongodb, uri: "${uri}", database: ${DATABASE}_store_only }
sources:
  - { name: CAMS, plugin: cams, fetch: { type: local, dir: ., pattern: "cams_*.dbf" } }
  - { name: KARVY, plugin: karvy, fetch: { type: local, dir: ., pattern: "karvy_*.dbf" } }
`,
  );
  const nodeArgs = flags['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${flags['cpu-prof']}`] : [];
  const runs: { name: string; ms: number; timingsMs: Record<string, number> }[] = [
    { name: 'offline', ms: offlineMs, timingsMs: offline.timingsMs },
  ];
  for (const [name, file, extra] of [
    ['ndjson+store', storeOnly, []],
    ['ferretdb', config, []],
    ...(flags.rerun ? [['ferretdb-rerun', config, ['--force']] as const] : []),
  ] as const) {
    const t = performance.now();
    const r = await runRecon(file, name === 'ndjson+store' ? [] : nodeArgs, [...extra]);
    const ms = performance.now() - t;
    emit({ measure: name, ms: Math.round(ms), ...r });
    for (const s of ['matched', 'mismatched', 'dbf_only', 'mongo_only'] as const)
      if (r.counts[s] !== offline.counts[s])
        throw new Error(`${name}: ${r.counts[s]} ${s}, offline ${offline.counts[s]}`);
    if (r.closed !== offline.closed)
      throw new Error(`${name}: ${r.closed} closed positions, offline ${offline.closed}`);
    runs.push({ name, ms, timingsMs: r.timingsMs });
    const differences = await sameBreaks(day.config, offline.runId, file, r.runId);
    emit({ measure: `${name}-breaks-equal`, breaks: differences.compared });
    if (differences.found.length > 0)
      throw new Error(
        `${name}: breaks differ from the offline run's:\n${differences.found.join('\n')}`,
      );
  }

  const ferretRun = runs.find((r) => r.name === 'ferretdb')!;
  const storeRun = runs.find((r) => r.name === 'ndjson+store')!;
  // Side by side. decode waits for the ledger's index, so it carries the ledger's time too.
  const stages = [...new Set(runs.flatMap((r) => Object.keys(r.timingsMs)))];
  const pad = (s: string, n: number) => s.padStart(n);
  const lines = [
    [
      'stage (ms)',
      ...runs.map((r) => r.name),
      ...runs.slice(1).map((r) => `${r.name}/offline`),
      'ferretdb/ndjson+store',
    ],
    ...stages.map((s) => [
      s,
      ...runs.map((r) => String(r.timingsMs[s] ?? '-')),
      ...runs.slice(1).map((r) => ratio(r.timingsMs[s], offline.timingsMs[s])),
      ratio(ferretRun.timingsMs[s], storeRun.timingsMs[s]),
    ]),
    [
      'whole process',
      ...runs.map((r) => String(Math.round(r.ms))),
      ...runs.slice(1).map((r) => ratio(r.ms, offlineMs)),
      ratio(ferretRun.ms, storeRun.ms),
    ],
  ];
  const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  process.stderr.write(lines.map((l) => l.map((c, i) => pad(c, widths[i])).join('  ')).join('\n'));
  process.stderr.write('\n');
  // The target: no stage but the ledger's (and decode, which waits for it) over 2× the offline one.
  // Against the ndjson ledger with the same store, what is over is the ledger path's doing alone.
  const overAgainst = (base: Record<string, number>) =>
    stages.filter((s) => {
      if (s === 'ledger' || s === 'decode') return false;
      const a = ferretRun.timingsMs[s] ?? 0;
      const b = base[s] ?? 0;
      return a > 2 * b && a - b > 100; // under 0.1 s apart is noise
    });
  const over = overAgainst(offline.timingsMs);
  emit({
    summary: true,
    keys_per_source: keys,
    transactions: day.transactions,
    counts: offline.counts,
    stages: Object.fromEntries(
      stages.map((s) => [s, Object.fromEntries(runs.map((r) => [r.name, r.timingsMs[s] ?? null]))]),
    ),
    whole_ms: Object.fromEntries(runs.map((r) => [r.name, Math.round(r.ms)])),
    over_2x: over,
    target_met: over.length === 0,
    over_2x_same_store: overAgainst(storeRun.timingsMs),
  });
} finally {
  // The readers of sameBreaks share the engine's client: closed, or the process never ends.
  await closeMongoClients();
  await ferret?.stop();
}

/**
 * Every break of one run against another's, as the stores' readers give them (status, units,
 * difference, rows, scheme name, reason and its detail, NAV and its source, value, lifecycle): the
 * MongoDB path must explain each break as the offline one does, not only count the same.
 */
async function sameBreaks(
  configA: string,
  runA: string,
  configB: string,
  runB: string,
): Promise<{ compared: number; found: string[] }> {
  const read = async (path: string, runId: string) => {
    const loaded = await loadConfig({ path });
    const rows = new Map<string, string>();
    for await (const r of createReader(loaded.config, loaded.baseDir).breakRows(runId)) {
      // What differs between two runs of one day by design: the run's id and date, the row's id.
      const stored = r as typeof r & { _id?: unknown };
      const { reconciliation_run_id: _run, reconciliation_date: _date, _id: _row, ...row } = stored;
      const sorted = Object.fromEntries(Object.entries(row).sort(([a], [b]) => (a < b ? -1 : 1)));
      rows.set(
        JSON.stringify([r.source, r.status, r.product_code, r.folio_no]),
        JSON.stringify(sorted),
      );
    }
    return rows;
  };
  const [a, b] = [await read(configA, runA), await read(configB, runB)];
  const found: string[] = [];
  for (const [key, row] of a) {
    const other = b.get(key);
    if (other !== row) found.push(`${key}: ${row} / ${other ?? 'missing'}`);
  }
  for (const key of b.keys()) if (!a.has(key)) found.push(`${key}: missing / ${b.get(key)}`);
  return { compared: a.size, found: found.slice(0, 10) };
}

function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined) return '-';
  return b === 0 ? (a === 0 ? '1.00' : 'inf') : (a / b).toFixed(2);
}
