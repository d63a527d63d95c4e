/**
 * `npm run bench`: on the same generated files, in one process run, measures
 *   - the machine's limit (one loop over the bytes summing the units field),
 *   - dbffile decoding every record (the library baseline),
 *   - our decode + reconcile with one and with two workers (per stage, rows/s, MB/s),
 *   - ledger aggregation in the server ($group) against reading every transaction to the client,
 *   - result writes (CSV file store; MongoDB),
 *   - a full engine run over two big files, in a child process, for peak RSS and stage times,
 *   - what the user waits for: `recon run` as a whole process on an offline day against the seed's
 *     algorithm in Python (bench/yardstick.py, needs python3-dbfread), interleaved, counts checked.
 * Prints one JSON object per measurement and a summary object last.
 *
 * Flags:
 *   --rows N          KARVY file rows (default 1000000)
 *   --big-rows N      rows per big-run file (default 5000000)
 *   --big-files N     big-run files (default 2)
 *   --big-shape S     cams or karvy (default cams)
 *   --ledger-tx N     ledger transactions (default 20000: FerretDB's $group is quadratic in groups)
 *   --dir PATH        where the generated files go
 *   --heap-mb N       V8 heap cap of the big run (default 2048)
 *   --reps N          passes of limit/ours, best taken (default 15)
 *   --day-keys N      keys per registrar of the offline day (default 200000)
 *   --day-passes N    whole-run passes, each recon and the yardstick (default 3)
 *   --skip-big --skip-ledger --skip-dbffile --skip-day
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { DBFFile } from 'dbffile';
import { MongoClient } from 'mongodb';
import { readDbfLayout } from '../core/dbf/layout.js';
import { unitsFromDouble } from '../core/fixed-point.js';
import { keyOf, splitKey } from '../core/keys/text-key.js';
import { MongoLedger } from '../core/ledger/mongodb.js';
import { unitsFromValue } from '../core/ledger/units-value.js';
import { DEFAULT_LEDGER_FIELDS } from '../core/ledger/types.js';
import { closeMongoClients } from '../core/mongo-client.js';
import type { LedgerPosition, Positions } from '../core/reconcile.js';
import { FileStore } from '../core/store/files.js';
import { MongoStore } from '../core/store/mongodb.js';
import type { RunSummary } from '../core/store/types.js';
import { reconcileSource } from '../test/support/reference.js';
import { startFerret } from '../fixtures/ferretdb.js';
import { summaryOf } from '../fixtures/summary.js';
import { generateFile, proveWithDbffile, type GeneratedFile } from '../fixtures/generate.js';
import { limitLoop, ThreadedLimit } from './limit.js';
import { decodeAndReconcile, indexLedger } from './pipeline.js';
import { generateOfflineDay } from './offline-day.js';
import { measureWholeRun, type WholeRunResult } from './whole-run.js';
import { ReconPool } from '../core/pool.js';

const { values: flags } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    'big-rows': { type: 'string', default: '5000000' },
    'big-files': { type: 'string', default: '2' },
    'big-shape': { type: 'string', default: 'cams' },
    'ledger-tx': { type: 'string', default: '20000' },
    dir: { type: 'string', default: join(tmpdir(), 'recon-bench') },
    'skip-big': { type: 'boolean', default: false },
    'skip-ledger': { type: 'boolean', default: false },
    'skip-dbffile': { type: 'boolean', default: false },
    'skip-day': { type: 'boolean', default: false },
    'day-keys': { type: 'string', default: '200000' },
    'day-passes': { type: 'string', default: '3' },
    'heap-mb': { type: 'string', default: '2048' },
    reps: { type: 'string', default: '15' },
  },
});
const rows = Number(flags.rows);
const reps = Number(flags.reps);
for (const [flag, value] of [
  ['rows', rows],
  ['reps', reps],
  ['big-rows', Number(flags['big-rows'])],
  ['big-files', Number(flags['big-files'])],
  ['ledger-tx', Number(flags['ledger-tx'])],
  ['heap-mb', Number(flags['heap-mb'])],
  ['day-keys', Number(flags['day-keys'])],
  ['day-passes', Number(flags['day-passes'])],
] as const) {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new Error(`--${flag} must be a positive whole number, got ${String(flags[flag])}`);
}
const dir = flags.dir!;
mkdirSync(dir, { recursive: true });
const emit = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify(o) + '\n');
const mb = (bytes: number) => bytes / 1e6;

/** Generates a file into `folder`, reporting its size and the time taken. */
function generatedFile(
  folder: string,
  name: string,
  shape: 'karvy' | 'cams',
  n: number,
  fileNo: number,
): GeneratedFile {
  const path = join(folder, name);
  const t0 = performance.now();
  const gen = generateFile(path, shape, n, fileNo);
  emit({
    measure: 'generate',
    file: name,
    shape,
    rows: n,
    mb: Math.round(mb(gen.bytes)),
    ms: Math.round(performance.now() - t0),
  });
  return gen;
}

// 1. The KARVY-shaped file, proved by dbffile reading a sample back.
const karvy = generatedFile(dir, `karvy-${rows}.dbf`, 'karvy', rows, 0);
await proveWithDbffile(karvy, 2000);
const layout = await readDbfLayout(karvy.path);
const unitsField = layout.fields.find((f) => f.name === 'BALUNITS')!;
const fileMb = mb(layout.size);

// Ledger positions for reconcile: nine keys in ten present, one in ten of those off by a unit.
function positionsFor(
  tableKeys: Iterable<{ key: string; units: number }>,
): Map<string, LedgerPosition> {
  const out = new Map<string, LedgerPosition>();
  let i = 0;
  for (const h of tableKeys) {
    i++;
    if (i % 10 === 0) continue;
    const [productCode, folio] = splitKey(h.key);
    out.set(h.key, {
      productCode,
      folio,
      units: i % 10 === 5 ? h.units + 10_000 : h.units,
      transactions: 1,
    });
  }
  return out;
}

// The positions come from one pass (their key set is the file's); nine in ten keys are in the
// ledger.
const probePool = new ReconPool(1);
const probe = await decodeAndReconcile(
  probePool,
  karvy.path,
  'karvy',
  indexLedger(new Map(), rows, 1),
);
await probePool.close();
if (probe.keys !== karvy.keys)
  throw new Error(`decoded ${probe.keys} keys, generator made ${karvy.keys}`);
const expected = { matched: 0, mismatched: 0, dbf_only: 0 };
// Indexed once, as a run's ledger stage does; the positions' objects are then left to the GC, so
// the passes below do not pay for marking a million objects the engine would hold in its ledger
// stage.
let ledgers: Record<1 | 2, ReturnType<typeof indexLedger>>;
{
  const positions = positionsFor(probe.table);
  for (const h of probe.table) {
    const pos = positions.get(h.key);
    expected[
      pos === undefined
        ? 'dbf_only'
        : Math.abs(pos.units - h.units) <= 10
          ? 'matched'
          : 'mismatched'
    ]++;
  }
  ledgers = { 1: indexLedger(positions, rows, 1), 2: indexLedger(positions, rows, 2) };
}
// 2-3. The limit loop (on one and on two threads) and ours with one and two workers, interleaved
// pass by pass so that a noisy moment on a shared machine hits all of them alike; best of --reps
// each. Each pool lives for all passes (a daemon's pool is warm); the first pass also pulls the
// file into the page cache.
const limitTask = {
  file: karvy.path,
  headerLength: layout.headerLength,
  recordLength: layout.recordLength,
  start: 0,
  end: layout.recordCount,
  unitsOffset: unitsField.offset,
  unitsSize: unitsField.size,
};
let limitMs = Infinity;
const ours: Record<number, { decodeMs: number; reconcileMs: number; totalMs: number }> = {
  1: { decodeMs: Infinity, reconcileMs: Infinity, totalMs: Infinity },
  2: { decodeMs: Infinity, reconcileMs: Infinity, totalMs: Infinity },
};
const pools = { 1: new ReconPool(1), 2: new ReconPool(2) };
const limit2 = new ThreadedLimit(2);
let limit2Ms = Infinity;
const pairedRatios: number[] = [];
for (let rep = 0; rep < reps; rep++) {
  const pair: Record<number, number> = {};
  const l = limitLoop(limitTask);
  const l2 = await limit2.run(limitTask);
  for (const x of [l, l2])
    if (x.total !== karvy.totalUnits)
      throw new Error(`limit loop summed ${x.total}, expected ${karvy.totalUnits}`);
  limitMs = Math.min(limitMs, l.ms);
  limit2Ms = Math.min(limit2Ms, l2.ms);
  for (const threads of [1, 2] as const) {
    const r = await decodeAndReconcile(pools[threads], karvy.path, 'karvy', ledgers[threads]);
    const total = r.decodeMs + r.reconcileMs;
    pair[threads] = total;
    emit({
      measure: 'pass',
      rep,
      threads,
      decode_ms: Math.round(r.decodeMs),
      reconcile_ms: Math.round(r.reconcileMs),
      ms: Math.round(total),
      limit_ms: Math.round(l.ms),
      limit_2_threads_ms: Math.round(l2.ms),
    });
    if (total < ours[threads].totalMs)
      ours[threads] = { decodeMs: r.decodeMs, reconcileMs: r.reconcileMs, totalMs: total };
    // The statuses must be the ones a plain Map lookup gives, key for key in count.
    for (const s of ['matched', 'mismatched', 'dbf_only'] as const) {
      if (r.counts[s] !== expected[s])
        throw new Error(`${threads} worker(s): ${r.counts[s]} ${s}, expected ${expected[s]}`);
    }
    if (r.counts.mismatched === 0 || r.counts.dbf_only === 0)
      throw new Error('reconcile produced no breaks: the bench data is wrong');
  }
  pairedRatios.push(pair[1] / pair[2]);
}
pairedRatios.sort((a, b) => a - b);
await Promise.all([pools[1].close(), pools[2].close(), limit2.close()]);
/** Time and throughput of one pass over the KARVY file. */
const rates = (ms: number) => ({
  ms: Math.round(ms),
  rows_per_s: Math.round(rows / (ms / 1000)),
  mb_per_s: Math.round(fileMb / (ms / 1000)),
});
emit({
  measure: 'limit',
  rows,
  ...rates(limitMs),
});
emit({
  measure: 'limit',
  threads: 2,
  rows,
  ...rates(limit2Ms),
});
for (const threads of [1, 2] as const) {
  const best = ours[threads];
  emit({
    measure: 'ours',
    threads,
    rows,
    keys: karvy.keys,
    decode_ms: Math.round(best.decodeMs),
    reconcile_ms: Math.round(best.reconcileMs),
    ledger_index_ms: Math.round(ledgers[threads].ms),
    ...rates(best.totalMs),
  });
}

// 4. dbffile decoding every record of the same file (and summing by key, as a script would).
let dbffileMs = NaN;
if (!flags['skip-dbffile']) {
  const t0 = performance.now();
  const dbf = await DBFFile.open(karvy.path);
  const sums = new Map<string, number>();
  for await (const rec of dbf) {
    const key = keyOf(String(rec.PRCODE), String(rec.ACNO));
    sums.set(key, (sums.get(key) ?? 0) + unitsFromDouble(rec.BALUNITS as number)!);
  }
  dbffileMs = performance.now() - t0;
  if (sums.size !== karvy.keys)
    throw new Error(`dbffile saw ${sums.size} keys, expected ${karvy.keys}`);
  emit({
    measure: 'dbffile',
    rows,
    ...rates(dbffileMs),
  });
}

// 5. Writes: every result row to the CSV file store; a sample to MongoDB.
const run: RunSummary = summaryOf({
  runId: 'bench',
  status: 'running',
  startedAt: new Date(),
  finishedAt: null,
  configHash: '',
  sourceNames: ['BENCH'],
});
const resultRows = [
  ...reconcileSource(
    { source: 'BENCH', asOf: '2024-12-24', decimals: 4, holdings: probe.table },
    positionsFor(probe.table),
    10,
  ),
];
{
  const out = join(dir, 'out');
  rmSync(out, { recursive: true, force: true });
  const store = new FileStore(out);
  const t0 = performance.now();
  await store.begin(run);
  for (let i = 0; i < resultRows.length; i += 10_000)
    await store.writeRows(run, resultRows.slice(i, i + 10_000));
  await store.commit(run);
  const ms = performance.now() - t0;
  emit({
    measure: 'write',
    store: 'files',
    rows: resultRows.length,
    ms: Math.round(ms),
    rows_per_s: Math.round(resultRows.length / (ms / 1000)),
  });
}

// 6. Ledger aggregation on FerretDB (or MONGO_URI): server-side $group vs reading everything.
let ledgerRatio: number | null = null;
if (!flags['skip-ledger']) {
  const ferret = process.env.MONGO_URI ? null : await startFerret();
  const uri = process.env.MONGO_URI ?? ferret!.uri;
  const client = await MongoClient.connect(uri);
  try {
    const db = client.db('recon_bench');
    await db.dropDatabase();
    const col = db.collection('wealth_pulse_transactions');
    const n = Number(flags['ledger-tx']);
    const t0 = performance.now();
    let batch: Record<string, unknown>[] = [];
    let i = 0;
    for (const h of probe.table) {
      if (i >= n) break;
      const [productCode, folio] = splitKey(h.key);
      batch.push({
        product_code: productCode,
        folio_no: folio,
        units: (i % 997) / 8 + 1.125,
        transaction_type: i % 5 === 4 ? 'SELL' : 'BUY',
        transaction_date: new Date(Date.UTC(2024, 11, 1 + (i % 20))),
        scheme_name: 'Scheme',
      });
      batch.push({
        product_code: productCode,
        folio_no: folio,
        units: 2.5,
        transaction_type: 'BUY',
        transaction_date: new Date(Date.UTC(2024, 10, 1)),
        scheme_name: 'Scheme',
      });
      i += 2;
      if (batch.length >= 10_000) {
        await col.insertMany(batch);
        batch = [];
      }
    }
    if (batch.length > 0) await col.insertMany(batch);
    emit({ measure: 'ledger-seed', transactions: i, ms: Math.round(performance.now() - t0) });
    const rules = {
      fields: DEFAULT_LEDGER_FIELDS,
      typeSigns: { BUY: 1, SELL: -1 },
      ignoreTypes: [],
      ignoreUnmappedTypes: false,
    };
    const ledger = new MongoLedger({
      uri,
      database: 'recon_bench',
      collection: 'wealth_pulse_transactions',
      rules,
    });
    const cutoff = { asOf: '2024-12-24', cutoff: new Date('2024-12-24T18:30:00Z') };
    const t1 = performance.now();
    const [snap] = await ledger.snapshots([cutoff]);
    const serverMs = performance.now() - t1;
    const t2 = performance.now();
    const naive = new Map<string, number>();
    for await (const tx of col.find({ transaction_date: { $lt: cutoff.cutoff } })) {
      const key = keyOf(String(tx.product_code), String(tx.folio_no));
      const sign = tx.transaction_type === 'SELL' ? -1 : 1;
      naive.set(key, (naive.get(key) ?? 0) + sign * unitsFromValue(tx.units)!);
    }
    const naiveMs = performance.now() - t2;
    const streamed = new MongoLedger({
      uri,
      database: 'recon_bench',
      collection: 'wealth_pulse_transactions',
      rules,
      aggregation: 'client',
    });
    const t4 = performance.now();
    const [clientSnap] = await streamed.snapshots([cutoff]);
    const clientMs = performance.now() - t4;
    const byKey = (ps: Positions) =>
      new Map([...ps.values()].map((p) => [keyOf(p.productCode, p.folio), p]));
    const [fromServer, fromClient] = [byKey(snap.positions), byKey(clientSnap.positions)];
    for (const [key, units] of naive) {
      if (fromServer.get(key)?.units !== units || fromClient.get(key)?.units !== units)
        throw new Error(`ledger mismatch for ${key}`);
    }
    ledgerRatio = naiveMs / serverMs;
    emit({
      measure: 'ledger',
      server: process.env.MONGO_URI ? 'MONGO_URI' : 'ferretdb-sqlite',
      transactions: i,
      positions: snap.positions.size,
      server_group_ms: Math.round(serverMs),
      client_stream_ms: Math.round(clientMs),
      naive_client_ms: Math.round(naiveMs),
      naive_over_server: Number(ledgerRatio.toFixed(2)),
    });

    const sample = resultRows.slice(0, 50_000);
    const store = new MongoStore({
      uri,
      database: 'recon_bench',
      resultsCollection: 'reconciliation_results',
      runsCollection: 'reconciliation_runs',
      batchSize: 5000,
      staleAfterMs: 3600_000,
    });
    const t3 = performance.now();
    await store.begin(run);
    await store.writeRows(run, sample);
    await store.commit(run);
    const writeMs = performance.now() - t3;
    const mongoWrite = {
      measure: 'write',
      store: 'mongodb',
      server: process.env.MONGO_URI ? 'MONGO_URI' : 'ferretdb-sqlite',
      rows: sample.length,
      ms: Math.round(writeMs),
      rows_per_s: Math.round(sample.length / (writeMs / 1000)),
    };
    emit({ ...mongoWrite });
  } finally {
    await client.close();
    await closeMongoClients();
    await ferret?.stop();
  }
}

// 7. What the user waits for: the whole `recon run` on an offline day against the seed's algorithm.
let day: (WholeRunResult & { keysPerSource: number; transactions: number }) | null = null;
if (!flags['skip-day']) {
  const keys = Number(flags['day-keys']);
  const generated = await generateOfflineDay(dir, keys, emit);
  const dayDir = generated.dir;
  const result = await measureWholeRun(dayDir, generated.config, Number(flags['day-passes']), (p) =>
    emit({
      measure: 'whole-run-pass',
      pass: p.pass,
      recon_ms: Math.round(p.reconMs),
      yardstick_ms: Math.round(p.yardstickMs),
      counts: p.counts,
      closed: p.closed,
      ...(p.sameRows !== undefined ? { same_rows: p.sameRows } : {}),
      timings_ms: p.timingsMs,
    }),
  );
  day = { ...result, keysPerSource: keys, transactions: generated.transactions };
  emit({
    measure: 'whole-run',
    keys_per_source: keys,
    rows_per_source: generated.rows.cams,
    transactions: generated.transactions,
    passes: result.passes.length,
    recon_best_ms: Math.round(result.recon.bestMs),
    recon_median_ms: Math.round(result.recon.medianMs),
    yardstick_best_ms: Math.round(result.yardstick.bestMs),
    yardstick_median_ms: Math.round(result.yardstick.medianMs),
    recon_over_yardstick: Number(result.ratioMedian.toFixed(2)),
    recon_over_yardstick_paired_median: Number(result.ratioPairedMedian.toFixed(2)),
  });
}

// 8. Two big files through the whole engine, in a child process, for peak RSS.
let big: Record<string, unknown> | null = null;
if (!flags['skip-big']) {
  const shape = flags['big-shape'] === 'karvy' ? 'karvy' : 'cams';
  const bigDir = join(dir, 'big');
  mkdirSync(bigDir, { recursive: true });
  const n = Number(flags['big-rows']);
  for (let f = 0; f < Number(flags['big-files']); f++) {
    generatedFile(bigDir, `${shape}-big-${f}.dbf`, shape, n, f + 1);
  }
  // The engine runs with a capped V8 heap, as the container does (NODE_OPTIONS in the Dockerfile):
  // uncapped, V8 lets garbage grow the heap to about twice the live set before collecting.
  const out = execFileSync(
    process.execPath,
    [
      `--max-old-space-size=${flags['heap-mb']}`,
      fileURLToPath(new URL('./big-run.js', import.meta.url)),
      bigDir,
      `${shape}-big-*.dbf`,
      shape,
    ],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  const result: Record<string, unknown> = {
    measure: 'big-run',
    shape,
    files: Number(flags['big-files']),
    rows_per_file: n,
    heap_mb: Number(flags['heap-mb']),
    ...JSON.parse(out.trim().split('\n').pop()!),
  };
  emit(result);
  big = result;
  rmSync(join(bigDir, 'out'), { recursive: true, force: true });
}

const oursBest = Math.min(ours[1].totalMs, ours[2].totalMs);
emit({
  summary: true,
  rows,
  file_mb: Math.round(fileMb),
  ours_ms_1_worker: Math.round(ours[1].totalMs),
  ours_ms_2_workers: Math.round(ours[2].totalMs),
  limit_ms: Math.round(limitMs),
  dbffile_ms: Number.isNaN(dbffileMs) ? null : Math.round(dbffileMs),
  vs_dbffile: Number.isNaN(dbffileMs) ? null : Number((dbffileMs / oursBest).toFixed(2)),
  vs_limit: Number((oursBest / limitMs).toFixed(2)),
  two_worker_speedup: Number((ours[1].totalMs / ours[2].totalMs).toFixed(2)),
  // What two threads gain on the bare read-and-scan loop: this machine's ceiling for the line
  // above.
  limit_two_thread_speedup: Number((limitMs / limit2Ms).toFixed(2)),
  // The same from each pass's own pair (run back to back, so they share the machine's mood).
  two_worker_speedup_paired_median: Number(
    pairedRatios[Math.floor(pairedRatios.length / 2)].toFixed(2),
  ),
  ledger_naive_over_server: ledgerRatio === null ? null : Number(ledgerRatio.toFixed(2)),
  peak_rss_mb: big ? big.peak_rss_mb : Math.round(process.resourceUsage().maxRSS / 1024),
  whole_run:
    day === null
      ? null
      : {
          keys_per_source: day.keysPerSource,
          transactions: day.transactions,
          passes: day.passes.length,
          recon_ms: {
            best: Math.round(day.recon.bestMs),
            median: Math.round(day.recon.medianMs),
            all: day.passes.map((p) => Math.round(p.reconMs)),
          },
          yardstick_ms: {
            best: Math.round(day.yardstick.bestMs),
            median: Math.round(day.yardstick.medianMs),
            all: day.passes.map((p) => Math.round(p.yardstickMs)),
          },
          // Target (issue 12): at most 0.2.
          recon_over_yardstick: Number(day.ratioMedian.toFixed(2)),
          recon_over_yardstick_paired_median: Number(day.ratioPairedMedian.toFixed(2)),
          // Stage times of the pass whose whole run was the median.
          timings_ms: [...day.passes].sort((a, b) => a.reconMs - b.reconMs)[
            Math.floor((day.passes.length - 1) / 2)
          ].timingsMs,
        },
  big_run_ms: big ? big.ms : null,
  big_run_timings_ms: big ? big.timings_ms : null,
  // Target (issue 12): at most 3.
  big_run_explain_write_over_decode: big ? explainWriteOverDecode(big.timings_ms) : null,
  peak_rss_scope: big
    ? `engine run over ${String(big.files)} x ${String(big.rows_per_file)} ${String(big.shape)} rows`
    : 'this process',
});

function explainWriteOverDecode(t: unknown): number | null {
  const { explain, write, decode } = (t ?? {}) as Record<string, number | undefined>;
  if (explain === undefined || write === undefined || !decode) return null;
  return Number(((explain + write) / decode).toFixed(2));
}
