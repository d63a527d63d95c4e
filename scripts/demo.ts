/**
 * `npm run demo`: generates sample CAMS and KARVY files and a ledger in a temporary folder,
 * reconciles them offline (ndjson ledger, files store: no MongoDB needed), prints the summary and
 * writes the daily page (HTML report) of the run.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import { runReconciliation } from '../core/engine.js';
import { loadReport } from '../core/report/data.js';
import { writeReport } from '../core/report/write.js';
import { createReader } from '../core/store/reader.js';
import { createLogger } from '../core/logger.js';
import { summaryTable } from '../core/summary-format.js';
import { writeLedgerNdjson, writeScenario } from '../fixtures/scenario.js';

const dir = await mkdtemp(join(tmpdir(), 'recon-demo-'));
await mkdir(join(dir, 'incoming'));
const scenario = await writeScenario(join(dir, 'incoming'), { decimal128: true });
await writeLedgerNdjson(join(dir, 'ledger.ndjson'), scenario.transactions);
await writeFile(
  join(dir, 'recon.config.yaml'),
  `timezone: Asia/Kolkata
ledger: { type: ndjson, path: ./ledger.ndjson, ignoreTypes: [DIVIDEND] }
store: { type: files, dir: ./out }
reconcile: { tolerance: 0.001 }
sources:
  - { name: CAMS,  plugin: cams,  fetch: { type: local, dir: ./incoming, pattern: "cams*.dbf" } }
  - { name: KARVY, plugin: karvy, fetch: { type: local, dir: ./incoming, pattern: "karvy*.dbf" } }
`,
);
const loaded = await loadConfig({ path: join(dir, 'recon.config.yaml') });
const run = await runReconciliation({ loaded, logger: createLogger({ level: 'warn' }) });
process.stdout.write(`demo data in ${dir}\n\n`);
process.stdout.write(summaryTable(run));
process.stdout.write(`\nresults: ${join(dir, 'out', 'runs', run.runId, 'results.csv')}\n`);
if (run.status === 'committed') {
  const page = join(dir, 'out', 'report.html');
  await writeReport(
    await loadReport(createReader(loaded.config, loaded.baseDir), { runId: run.runId }),
    'html',
    page,
  );
  process.stdout.write(`report: ${page}\n`);
}
process.exitCode = run.status === 'committed' ? 0 : 1;
