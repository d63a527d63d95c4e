#!/usr/bin/env node
/**
 * The `recon` command: argument parsing, output and exit codes only. Exit 0 only for a committed
 * run; otherwise one line on stderr with the error code (see README "Exit codes").
 */
import { readFileSync, realpathSync } from 'node:fs';
import { userInfo } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { checkConfig, loadConfig } from '../config/load.js';
import { LOG_LEVELS, REPORT_FORMATS } from '../config/schema.js';
import { afterRun } from './after-run.js';
import { runReconciliation } from './engine.js';
import { inspectExitCode, inspectFile, inspectText } from './inspect.js';
import { closeReport, loadReport } from './report/data.js';
import {
  breakHistory,
  breaksTable,
  currentBreaks,
  historyText,
  type BreakFilter,
  recentRuns,
  runsTable,
} from './report/queries.js';
import { writeReport, type ReportFormat } from './report/write.js';
import { createReader, type BreakIdentity, type ResultReader } from './store/reader.js';
import { DESK_STATES, type DeskState } from './breaks/notes.js';
import { Daemon } from './daemon.js';
import { asReconError, exitCodeFor, ReconError } from './errors.js';
import { createLogger } from './logger.js';
import { closeMongoClients } from './mongo-client.js';
import { createProgress } from './progress.js';
import { redactUri } from './redact.js';
import { summaryJson, summaryTable } from './summary-format.js';

const INSPECT_EXAMPLE = `
Exit code: as recon run would end on the file (0 when a run would accept it, 3 for bad data).

Example, a KARVY file whose header says 2 records but holds 4, one with a bad units value:
  $ recon inspect incoming/karvy_20241224.dbf --rows 1
  file       karvy_20241224.dbf  (838 bytes)
  version    0x03 dBase III / FoxPro, no memo
  code page  cp852 (language driver 0x64 Eastern European MS-DOS)
  records    2 declared, 4 present (header 225 bytes, records of 153)
  fields     PRCODE C(10)  ACNO N(15)  FUNDDESC C(80)  BALUNITS N(18,4)  PLDG N(18,4)  TODATE C(11)
  source     KARVY, plugin karvy
  roles      productCode=PRCODE  folio=ACNO  units=BALUNITS  asOf=TODATE  schemeName=FUNDDESC  pledged=PLDG

  first 1 record(s), as decoded:
    #1  PRCODE="B01"  ACNO=1  BALUNITS=10  TODATE="24-12-2024"  FUNDDESC="Fundusz Łódź"  PLDG=0

  decoded    3 live rows, 0 deleted (records in error left out), as of 2024-12-24
  note       1 evidence value(s) unreadable; a run leaves them absent and reports them
             record 2 PLDG bytes 2020202020202020202020202020202a2a2a

  problems   2
    RECON_DBF_COUNT: karvy_20241224.dbf: the header declares 2 record(s) but the file's size (838 bytes: ...) implies 4; ...
    RECON_DBF_NUMBER: karvy_20241224.dbf: record 4 field BALUNITS is not a number with at most 4 decimals: "4O.0000"
`;

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/**
 * An option parser for whole numbers of at least `min` (commander prints the error and exits 2).
 */
export function wholeNumber(min: number): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value.trim()) || Number(value) < min)
      throw new InvalidArgumentError(`expected a whole number of at least ${min}`);
    return Number(value);
  };
}

/** An option parser for finite numbers of at least `min`. */
export function numberAtLeast(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min)
      throw new InvalidArgumentError(`expected a number of at least ${min}`);
    return n;
  };
}

/**
 * Log level of a one-shot command: --log-level, else the config's log.level, else JSON lines at
 * info when stderr is not a terminal (cron, containers) and nothing on a terminal, where the
 * progress bar, the summary and the one-line error are the output.
 */
function oneShotLevel(flag: string | undefined, configured: string | undefined): 'info' {
  return (flag ?? configured ?? (process.stderr.isTTY === true ? 'silent' : 'info')) as 'info';
}

export function buildProgram(): Command {
  const program = new Command('recon')
    .description(
      'Reconcile the distributor ledger (MongoDB) against CAMS and KARVY holdings files (DBF)',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError()
    // Each command parses its own options in place, so `breaks note --owner` reaches the note.
    .enablePositionalOptions()
    .exitOverride();

  runCommand(program);
  daemonCommand(program);
  reportCommands(program);
  const breaks = breaksCommands(program);
  noteCommand(breaks);
  historyCommand(breaks);
  checkCommands(program);
  inspectCommand(program);
  return program;
}

/** Commands for the one-shot run. */
function runCommand(program: Command): void {
  program
    .command('run')
    .description('reconcile once: fetch files, compare with the ledger, publish results')
    .option(
      '-c, --config <path>',
      'config file (default: recon.config.yaml found from the current folder up)',
    )
    .option(
      '-s, --source <name>',
      'only this source (repeatable)',
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option('--json', 'print one JSON object instead of the table')
    .option('--force', 'reconcile files even if a committed run with the same config already did')
    .addOption(
      new Option('--log-level <level>', 'log level (overrides config)').choices(LOG_LEVELS),
    )
    .action(
      async (opts: {
        config?: string;
        source: string[];
        json?: boolean;
        force?: boolean;
        logLevel?: string;
      }) => {
        const loaded = await loadConfig({ path: opts.config });
        const logger = createLogger({
          level: oneShotLevel(opts.logLevel, loaded.config.log.level),
        });
        // SIGTERM or SIGINT abandons the run: marked failed, nothing published, exit 4.
        const abort = new AbortController();
        const stop = () => abort.abort();
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
        const run = await runReconciliation({
          loaded,
          sources: opts.source,
          logger,
          force: opts.force === true,
          progress: createProgress(logger),
          signal: abort.signal,
        }).finally(() => {
          process.removeListener('SIGTERM', stop);
          process.removeListener('SIGINT', stop);
        });
        await afterRun(loaded, run, logger);
        process.stdout.write(
          opts.json ? JSON.stringify(summaryJson(run)) + '\n' : summaryTable(run),
        );
        if (run.status !== 'committed' && run.status !== 'skipped') {
          const err = run.error ?? { code: 'RECON_INTERNAL', message: 'run did not commit' };
          process.exitCode = exitCodeFor(err.code);
          process.stderr.write(`recon: ${err.code}: ${redactUri(err.message)}\n`);
        }
      },
    );
}

/** Commands for the long-running daemon. */
function daemonCommand(program: Command): void {
  program
    .command('daemon')
    .description(
      'run on the configured schedule until SIGTERM/SIGINT; serves /healthz and /metrics',
    )
    .option('-c, --config <path>', 'config file')
    .addOption(
      new Option('--log-level <level>', 'log level (overrides config)').choices(LOG_LEVELS),
    )
    .action(async (opts: { config?: string; logLevel?: string }) => {
      const loaded = await loadConfig({ path: opts.config });
      const logger = createLogger({
        level: (opts.logLevel ?? loaded.config.log.level ?? 'info') as 'info',
      });
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
}

/** Commands for the daily report and the list of runs. */
function reportCommands(program: Command): void {
  program
    .command('report')
    .description('write the report of a committed run (default: the latest)')
    .option('-c, --config <path>', 'config file')
    .option('--run <id>', 'run id')
    .option('--as-of <date>', 'latest committed run for this as-of day (yyyy-mm-dd)')
    .addOption(
      new Option('--format <format>', 'report format')
        .choices([...REPORT_FORMATS])
        .makeOptionMandatory(),
    )
    .requiredOption('--out <path>', 'file to write')
    .action(
      async (opts: {
        config?: string;
        run?: string;
        asOf?: string;
        format: ReportFormat;
        out: string;
      }) => {
        const data = await loadReport(await readerFor(opts.config), {
          runId: opts.run,
          asOf: opts.asOf,
        });
        try {
          await writeReport(data, opts.format, opts.out);
        } finally {
          await closeReport(data);
        }
        process.stdout.write(`report written: ${opts.out}\n`);
      },
    );

  program
    .command('runs')
    .description('recent runs: as-of, status, counts, duration')
    .option('-c, --config <path>', 'config file')
    .option('-n, --limit <n>', 'how many (1 or more)', wholeNumber(1), 20)
    .option('--json', 'JSON instead of a table')
    .action(async (opts: { config?: string; limit: number; json?: boolean }) => {
      const runs = await recentRuns(await readerFor(opts.config), opts.limit);
      process.stdout.write(opts.json ? JSON.stringify(runs) + '\n' : runsTable(runs));
    });
}

/** Commands for break listing, notes and history. */
function breaksCommands(program: Command): Command {
  const breaks = program
    .command('breaks')
    .description('breaks of the latest committed run, largest value first')
    .enablePositionalOptions()
    .option('-c, --config <path>', 'config file')
    .option('--source <name>', 'only this source')
    .addOption(
      new Option('--status <status>', 'only this status').choices([
        'mismatched',
        'dbf_only',
        'mongo_only',
      ]),
    )
    .option('--min-age <days>', 'only breaks at least this old (0 or more)', numberAtLeast(0))
    .option('--owner <name>', 'only breaks this person owns')
    .addOption(
      new Option('--state <state>', 'only breaks in this state (no note: open)').choices([
        ...DESK_STATES,
      ]),
    )
    .option(
      '--min-value <rupees>',
      'only breaks worth at least this much (absolute value)',
      rupeesArgument,
    )
    .option('--json', 'JSON instead of a table')
    .action(async (opts: BreakFilter & { config?: string; json?: boolean }) => {
      const list = await currentBreaks(await readerFor(opts.config), opts);
      process.stdout.write(opts.json ? JSON.stringify(list) + '\n' : breaksTable(list));
    });

  return breaks;
}

/** Commands for notes on a break. */
function noteCommand(breaks: Command): void {
  breaks
    .command('note')
    .description(
      'record a note (and optionally owner and state) against a break; SOURCE "-" is a ledger position of unknown owner',
    )
    .argument('<source>')
    .argument('<product>')
    .argument('<folio>')
    .argument('<text>')
    .option('-c, --config <path>', 'config file')
    .option('--owner <name>', 'who chases it')
    .addOption(new Option('--state <state>', 'where it stands').choices([...DESK_STATES]))
    .option('--author <name>', 'who writes the note (default: the OS user)')
    .action(
      async (
        source: string,
        product: string,
        folio: string,
        text: string,
        opts: { config?: string; owner?: string; state?: DeskState; author?: string },
      ) => {
        const id = identity(source, product, folio);
        if (text.trim().length === 0) throw new ReconError('RECON_USAGE', 'a note needs some text');
        await (
          await readerFor(opts.config)
        ).addNote({
          source: id.source,
          product_code: id.productCode,
          folio_no: id.folio,
          text,
          owner: opts.owner ?? null,
          state: opts.state ?? null,
          author: opts.author ?? osUser(),
          at: new Date(),
        });
        process.stdout.write(`noted: ${source} ${id.productCode} ${id.folio}\n`);
      },
    );
}

/** Commands for the history of a break. */
function historyCommand(breaks: Command): void {
  breaks
    .command('history')
    .description("a break's days, values and notes")
    .argument('<source>')
    .argument('<product>')
    .argument('<folio>')
    .option('-c, --config <path>', 'config file')
    .option('--json', 'JSON instead of text')
    .action(
      async (
        source: string,
        product: string,
        folio: string,
        opts: { config?: string; json?: boolean },
      ) => {
        const h = await breakHistory(
          await readerFor(opts.config),
          identity(source, product, folio),
        );
        process.stdout.write(opts.json ? JSON.stringify(h) + '\n' : historyText(h));
      },
    );
}

/** Commands for config validation and the container health check. */
function checkCommands(program: Command): void {
  program
    .command('validate-config')
    .description(
      'load, interpolate and validate the config and every plugin; say whether `recon daemon` can run it',
    )
    .option('-c, --config <path>', 'config file')
    .option('--daemon', 'also fail (exit 2) when `recon daemon` could not run this config')
    .action(async (opts: { config?: string; daemon?: boolean }) => {
      const loaded = await loadConfig({ path: opts.config });
      const check = await checkConfig(loaded);
      process.stdout.write(
        `config ok: ${loaded.filepath} (${loaded.config.sources.length} sources: ${loaded.config.sources.map((s) => s.name).join(', ')})\n`,
      );
      process.stdout.write(`plugins ok: ${check.plugins.join(', ')}\n`);
      process.stdout.write(
        check.daemonProblem
          ? `daemon: cannot run this config: ${check.daemonProblem}\n`
          : `daemon: ready (${check.daemonSummary})\n`,
      );
      if (opts.daemon && check.daemonProblem)
        throw new ReconError('RECON_CONFIG_INVALID', `${loaded.filepath}: ${check.daemonProblem}`);
    });

  program
    .command('healthcheck')
    .description(
      'exit 0 when the daemon of this config answers GET /healthz (for container health checks); 1 otherwise',
    )
    .option('-c, --config <path>', 'config file')
    .option('--timeout <seconds>', 'how long to wait for the answer', numberAtLeast(0.1), 5)
    .action(async (opts: { config?: string; timeout: number }) => {
      process.exitCode = await healthcheck(opts.config, opts.timeout);
    });
}

/** Commands for inspecting registrar files. */
function inspectCommand(program: Command): void {
  program
    .command('inspect')
    .description(
      'show how a run would read one DBF file: version, code page, record counts, fields, the columns each role takes, the first rows, and every problem with its code',
    )
    .argument('<file>', 'the DBF file')
    .option(
      '-c, --config <path>',
      'config file (default: recon.config.yaml found from the current folder up, if any)',
    )
    .option(
      '-s, --source <name>',
      'the source whose plugin and settings apply (default: the one whose file pattern matches)',
    )
    .option('-n, --rows <n>', 'how many records to show', wholeNumber(0), 5)
    .option('--json', 'one JSON object instead of text')
    .addHelpText('after', INSPECT_EXAMPLE)
    .action(
      async (
        file: string,
        opts: { config?: string; source?: string; rows: number; json?: boolean },
      ) => {
        const loaded = await loadConfig({ path: opts.config }).catch((err: unknown) => {
          if (
            opts.config === undefined &&
            opts.source === undefined &&
            (err as ReconError).code === 'RECON_CONFIG_NOT_FOUND'
          )
            return null;
          throw err;
        });
        const report = await inspectFile({ file, loaded, source: opts.source, rows: opts.rows });
        process.stdout.write(opts.json ? JSON.stringify(report) + '\n' : inspectText(report));
        process.exitCode = inspectExitCode(report);
      },
    );
}

/** Exit 1 on every failure (Docker reserves 2): config unreadable, no answer, or not 200. */
async function healthcheck(
  configPath: string | undefined,
  timeoutSeconds: number,
): Promise<number> {
  let url = '';
  try {
    const { config } = await loadConfig({ path: configPath });
    const { health } = config;
    if (!health.enabled) {
      process.stdout.write(
        'health: the endpoint is disabled (health.enabled: false); nothing to check\n',
      );
      return 0;
    }
    const configured = health.host;
    const host = configured === '0.0.0.0' ? '127.0.0.1' : configured === '::' ? '::1' : configured;
    url = `http://${host.includes(':') ? `[${host}]` : host}:${health.port}/healthz`;
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutSeconds * 1000) });
    const body = await res.text();
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    process.stdout.write(`health: ${url}: ${body.trim()}\n`);
    return 0;
  } catch (err) {
    const e = asReconError(err);
    process.stderr.write(
      `recon: unhealthy: ${url ? `${url}: ` : ''}${redactUri(e.code === 'RECON_INTERNAL' ? e.message : `${e.code}: ${e.message}`)}\n`,
    );
    return 1;
  }
}

async function readerFor(configPath: string | undefined): Promise<ResultReader> {
  const loaded = await loadConfig({ path: configPath });
  return createReader(loaded.config, loaded.baseDir);
}

/** The OS user, for a note's author (a container's uid may have no name). */
function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.LOGNAME ?? 'unknown';
  }
}

/** A non-negative amount of rupees with at most 2 decimals. */
function rupeesArgument(v: string): number {
  if (!/^\d+(\.\d{1,2})?$/.test(v.trim()))
    throw new InvalidArgumentError('expected rupees, e.g. 1000 or 99.50');
  return Number(v);
}

/** A break's identity from the command line: trimmed key parts, source "-" for unknown owner. */
function identity(source: string, product: string, folio: string): BreakIdentity {
  return {
    source: source === '-' ? null : source,
    productCode: product.trim(),
    folio: folio.trim(),
  };
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  if (argv.length <= 2) {
    // Nothing asked: the help goes to stderr and the exit is a usage error, so scripts notice.
    program.outputHelp({ error: true });
    return 2;
  }
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      // --help and --version exit 0; usage errors were already printed by commander.
      return code === 'commander.helpDisplayed' ||
        code === 'commander.help' ||
        code === 'commander.version'
        ? 0
        : 2;
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
    return (
      process.argv[1] !== undefined &&
      realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)
    );
  } catch {
    return false;
  }
}
if (invokedDirectly()) {
  // Once the command is done, a handle left behind (a worker thread's port whose exit went
  // unreported) must not keep the process alive: exit after a grace second if it lingers.
  const exitSoon = () => {
    setTimeout(() => process.exit(), 1_000).unref();
  };
  main(process.argv).then(
    (code) => {
      process.exitCode = code;
      exitSoon();
    },
    (err: unknown) => {
      process.stderr.write(`recon: RECON_INTERNAL: ${String(err)}\n`);
      process.exitCode = 1;
      exitSoon();
    },
  );
}
