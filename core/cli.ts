#!/usr/bin/env node
/**
 * The `recon` command: argument parsing, output and exit codes only. Exit 0 only for a committed
 * run; otherwise one line on stderr with the error code (see README "Exit codes").
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { loadConfig } from '../config/load.js';
import { afterRun } from './after-run.js';
import { runReconciliation } from './engine.js';
import { loadReport } from './report/data.js';
import { breaksTable, currentBreaks, recentRuns, runsTable } from './report/queries.js';
import { REPORT_FORMATS, writeReport, type ReportFormat } from './report/write.js';
import { createStore } from './store/index.js';
import { MongoStore } from './store/mongodb.js';
import { Daemon } from './schedule.js';
import { asReconError, exitCodeFor, ReconError } from './errors.js';
import { createLogger } from './logger.js';
import { closeMongoClients } from './mongo-client.js';
import { createProgress } from './progress.js';
import { redactUri } from './redact.js';
import { summaryJson, summaryTable } from './summary-format.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function buildProgram(): Command {
  const program = new Command('recon')
    .description('Reconcile the distributor ledger (MongoDB) against CAMS and KARVY holdings files (DBF)')
    .showHelpAfterError()
    .exitOverride();

  program.command('run')
    .description('reconcile once: fetch files, compare with the ledger, publish results')
    .option('-c, --config <path>', 'config file (default: recon.config.yaml found from the current folder up)')
    .option('-s, --source <name>', 'only this source (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--json', 'print one JSON object instead of the table')
    .option('--force', 'reconcile files even if a committed run with the same config already did')
    .addOption(new Option('--log-level <level>', 'log level (overrides config)').choices(LOG_LEVELS))
    .action(async (opts: { config?: string; source: string[]; json?: boolean; force?: boolean; logLevel?: string }) => {
      const loaded = await loadConfig({ path: opts.config });
      const logger = createLogger({ level: (opts.logLevel ?? loaded.config.log?.level ?? 'info') as 'info' });
      // SIGTERM or SIGINT abandons the run: marked failed, nothing published, exit 4.
      const abort = new AbortController();
      const stop = () => abort.abort();
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      const run = await runReconciliation({ loaded, sources: opts.source, logger, force: opts.force === true, progress: createProgress(logger), signal: abort.signal })
        .finally(() => { process.removeListener('SIGTERM', stop); process.removeListener('SIGINT', stop); });
      await afterRun(loaded, run, logger);
      process.stdout.write(opts.json ? JSON.stringify(summaryJson(run)) + '\n' : summaryTable(run));
      if (run.status !== 'committed' && run.status !== 'skipped') {
        const err = run.error ?? { code: 'RECON_INTERNAL', message: 'run did not commit' };
        process.exitCode = exitCodeFor(err.code);
        process.stderr.write(`recon: ${err.code}: ${redactUri(err.message)}\n`);
      }
    });

  program.command('daemon')
    .description('run on the configured schedule until SIGTERM/SIGINT; serves /healthz and /metrics')
    .option('-c, --config <path>', 'config file')
    .addOption(new Option('--log-level <level>', 'log level (overrides config)').choices(LOG_LEVELS))
    .action(async (opts: { config?: string; logLevel?: string }) => {
      const loaded = await loadConfig({ path: opts.config });
      const logger = createLogger({ level: (opts.logLevel ?? loaded.config.log?.level ?? 'info') as 'info' });
      // Handlers first: a signal that arrives while starting must still stop the daemon cleanly.
      const signalled = new Promise<void>((resolve) => {
        process.once('SIGTERM', () => resolve());
        process.once('SIGINT', () => resolve());
      });
      const daemon = new Daemon(loaded, logger);
      await daemon.start();
      await signalled;
      logger.info('shutdown signal received');
      const { abandoned } = await daemon.stop();
      process.exitCode = abandoned ? exitCodeFor('RECON_ABANDONED') : 0;
    });

  program.command('report')
    .description('write the report of a committed run (default: the latest)')
    .option('-c, --config <path>', 'config file')
    .option('--run <id>', 'run id')
    .option('--as-of <date>', 'latest committed run for this as-of day (yyyy-mm-dd)')
    .addOption(new Option('--format <format>', 'report format').choices([...REPORT_FORMATS]).makeOptionMandatory())
    .requiredOption('--out <path>', 'file to write')
    .action(async (opts: { config?: string; run?: string; asOf?: string; format: ReportFormat; out: string }) => {
      const store = await mongoStoreFor(opts.config);
      await writeReport(await loadReport(store, { runId: opts.run, asOf: opts.asOf }), opts.format, opts.out);
      process.stdout.write(`report written: ${opts.out}\n`);
    });

  program.command('runs')
    .description('recent runs: as-of, status, counts, duration')
    .option('-c, --config <path>', 'config file')
    .option('-n, --limit <n>', 'how many', (v: string) => Number(v), 20)
    .option('--json', 'JSON instead of a table')
    .action(async (opts: { config?: string; limit: number; json?: boolean }) => {
      const runs = await recentRuns(await mongoStoreFor(opts.config), opts.limit);
      process.stdout.write(opts.json ? JSON.stringify(runs) + '\n' : runsTable(runs));
    });

  program.command('breaks')
    .description('breaks of the latest committed run')
    .option('-c, --config <path>', 'config file')
    .option('--source <name>', 'only this source')
    .addOption(new Option('--status <status>', 'only this status').choices(['mismatched', 'dbf_only', 'mongo_only']))
    .option('--min-age <days>', 'only breaks at least this old', (v: string) => Number(v))
    .option('--json', 'JSON instead of a table')
    .action(async (opts: { config?: string; source?: string; status?: string; minAge?: number; json?: boolean }) => {
      const breaks = await currentBreaks(await mongoStoreFor(opts.config), opts);
      process.stdout.write(opts.json ? JSON.stringify(breaks) + '\n' : breaksTable(breaks));
    });

  program.command('validate-config')
    .description('load, interpolate and validate the config; print where it came from')
    .option('-c, --config <path>', 'config file')
    .action(async (opts: { config?: string }) => {
      const loaded = await loadConfig({ path: opts.config });
      process.stdout.write(`config ok: ${loaded.filepath} (${loaded.config.sources.length} sources: ${loaded.config.sources.map((s) => s.name).join(', ')})\n`);
    });

  return program;
}

async function mongoStoreFor(configPath: string | undefined): Promise<MongoStore> {
  const loaded = await loadConfig({ path: configPath });
  const store = createStore(loaded.config, loaded.baseDir);
  if (!(store instanceof MongoStore)) throw new ReconError('RECON_USAGE', 'runs, breaks and report read the MongoDB store; this config uses the files store');
  return store;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      // --help and --version exit 0; usage errors were already printed by commander.
      return code === 'commander.helpDisplayed' || code === 'commander.help' || code === 'commander.version' ? 0 : 2;
    }
    const e = err instanceof ReconError ? err : asReconError(err);
    process.stderr.write(`recon: ${e.code}: ${redactUri(e.message)}\n`);
    return exitCodeFor(e.code);
  } finally {
    await closeMongoClients();
  }
}

function invokedDirectly(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}
if (invokedDirectly()) {
  main(process.argv).then((code) => { process.exitCode = code; }, (err: unknown) => {
    process.stderr.write(`recon: RECON_INTERNAL: ${String(err)}\n`);
    process.exitCode = 1;
  });
}
