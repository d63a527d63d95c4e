/**
 * Child process of `npm run bench`: one full engine run (files store, ndjson ledger) over the
 * files named on the command line, so its peak RSS is measured alone. Prints one JSON line.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import { runReconciliation } from '../core/engine.js';
import { createLogger } from '../core/logger.js';

const [dir, pattern, plugin] = process.argv.slice(2);
await writeFile(join(dir, 'ledger.ndjson'), '');
await writeFile(
  join(dir, 'recon.config.yaml'),
  `ledger: { type: ndjson, path: ./ledger.ndjson }
store: { type: files, dir: ./out }
sources:
  - { name: BIG, plugin: ${plugin}, fetch: { type: local, dir: ., pattern: "${pattern}" } }
`,
);
const t0 = performance.now();
const run = await runReconciliation({
  loaded: await loadConfig({ path: join(dir, 'recon.config.yaml') }),
  logger: createLogger({ level: 'warn' }),
});
const ms = performance.now() - t0;
process.stdout.write(
  JSON.stringify({
    status: run.status,
    error: run.error,
    ms: Math.round(ms),
    rows: run.sources.BIG?.rows,
    keys: run.sources.BIG?.keys,
    files: run.sources.BIG?.files.length,
    timings_ms: run.timingsMs,
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
  }) + '\n',
);
