/**
 * What the user waits for: `recon run` (the built CLI, a child process) on an offline day, against
 * the seed's algorithm in Python (bench/yardstick.py) on the same files. Passes alternate which of
 * the two goes first, so a noisy moment of a shared machine hits both alike; every pass checks that
 * both found the same counts per status and the same closed positions, and the first pass that
 * every row has the same status, units and difference (and mongo_only rows the same owner); it
 * fails loudly if not.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const CLI = fileURLToPath(new URL('../core/cli.js', import.meta.url));
// tsc does not copy .py files: the yardstick is read from the source tree beside dist/.
const YARDSTICK = fileURLToPath(new URL('../../bench/yardstick.py', import.meta.url));
const SAME_ROWS = fileURLToPath(new URL('../../bench/same-rows.py', import.meta.url));
// Debian's python3-dbfread installs for Debian's interpreter, which a pyenv or venv on the PATH
// hides.
const PYTHON =
  process.env.RECON_BENCH_PYTHON ??
  (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');

type Counts = Record<'matched' | 'mismatched' | 'dbf_only' | 'mongo_only', number>;

export interface WholeRunPass {
  pass: number;
  reconMs: number;
  yardstickMs: number;
  counts: Counts;
  closed: number;
  timingsMs: Record<string, number>;
  /** Rows found equal, value by value, in results.csv and the yardstick's CSV (first pass). */
  sameRows?: number;
}

export interface WholeRunResult {
  passes: WholeRunPass[];
  recon: { bestMs: number; medianMs: number };
  yardstick: { bestMs: number; medianMs: number };
  /** recon / yardstick, from the medians. */
  ratioMedian: number;
  /** Median over passes of each pass's own recon / yardstick ratio. */
  ratioPairedMedian: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

export async function runRecon(
  config: string,
  nodeArgs: string[] = [],
  runArgs: string[] = [],
): Promise<{
  runId: string;
  counts: Counts;
  closed: number;
  timingsMs: Record<string, number>;
}> {
  const { stdout } = await exec(
    process.execPath,
    [...nodeArgs, CLI, 'run', '--json', '--config', config, ...runArgs],
    { maxBuffer: 16 << 20 },
  );
  const run = JSON.parse(stdout) as {
    runId: string;
    status: string;
    error: unknown;
    counts: Counts;
    closedPositions: number;
    timingsMs: Record<string, number>;
  };
  if (run.status !== 'committed')
    throw new Error(`recon run ended ${run.status}: ${JSON.stringify(run.error)}`);
  return {
    runId: run.runId,
    counts: run.counts,
    closed: run.closedPositions,
    timingsMs: run.timingsMs,
  };
}

/**
 * Fails unless the run's results.csv and the yardstick's CSV agree row by row (bench/same-rows.py):
 * equal counts could hide a wrong value.
 */
async function checkSameRows(dayDir: string): Promise<number> {
  const runs = join(dayDir, 'out', 'runs');
  const committed = readdirSync(runs).filter((id) => !id.startsWith('.'));
  if (committed.length !== 1)
    throw new Error(`whole run: ${committed.length} committed runs in ${runs}, expected one`);
  const results = join(runs, committed[0], 'results.csv');
  try {
    const { stdout } = await exec(PYTHON, [
      SAME_ROWS,
      dayDir,
      join(dayDir, 'yardstick.csv'),
      results,
    ]);
    return (JSON.parse(stdout) as { rows: number }).rows;
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`whole run: results.csv and the yardstick's rows differ:\n${stderr}`, {
      cause: err,
    });
  }
}

async function runYardstick(dayDir: string): Promise<{ counts: Counts; closed: number }> {
  const { stdout } = await exec(PYTHON, [YARDSTICK, dayDir, join(dayDir, 'yardstick.csv')], {
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout) as { counts: Counts; closed: number };
}

export async function measureWholeRun(
  dayDir: string,
  config: string,
  passes: number,
  onPass: (p: WholeRunPass) => void,
): Promise<WholeRunResult> {
  const out: WholeRunPass[] = [];
  for (let pass = 0; pass < passes; pass++) {
    // Each pass starts from an empty store, so none skips its files as already reconciled and each
    // does the same work.
    rmSync(join(dayDir, 'out'), { recursive: true, force: true });
    const recon = () => timed(() => runRecon(config));
    const yard = () => timed(() => runYardstick(dayDir));
    let r: Awaited<ReturnType<typeof recon>>;
    let y: Awaited<ReturnType<typeof yard>>;
    if (pass % 2 === 0) {
      r = await recon();
      y = await yard();
    } else {
      y = await yard();
      r = await recon();
    }
    for (const s of ['matched', 'mismatched', 'dbf_only', 'mongo_only'] as const) {
      if (r.value.counts[s] !== y.value.counts[s])
        throw new Error(
          `whole run pass ${pass}: recon found ${r.value.counts[s]} ${s}, the yardstick ${y.value.counts[s]}`,
        );
    }
    if (r.value.closed !== y.value.closed)
      throw new Error(
        `whole run pass ${pass}: recon found ${r.value.closed} closed positions, the yardstick ${y.value.closed}`,
      );
    if (
      r.value.counts.matched === 0 ||
      r.value.counts.mismatched === 0 ||
      r.value.counts.dbf_only === 0 ||
      r.value.counts.mongo_only === 0
    ) {
      throw new Error(
        `whole run pass ${pass}: a status is missing (${JSON.stringify(r.value.counts)}): the bench day is wrong`,
      );
    }
    // Row by row once: the files and the code are the same in every pass.
    const sameRows = pass === 0 ? await checkSameRows(dayDir) : undefined;
    const p = {
      pass,
      ...(sameRows !== undefined ? { sameRows } : {}),
      reconMs: r.ms,
      yardstickMs: y.ms,
      counts: r.value.counts,
      closed: r.value.closed,
      timingsMs: r.value.timingsMs,
    };
    out.push(p);
    onPass(p);
  }
  const reconMs = out.map((p) => p.reconMs);
  const yardMs = out.map((p) => p.yardstickMs);
  return {
    passes: out,
    recon: { bestMs: Math.min(...reconMs), medianMs: median(reconMs) },
    yardstick: { bestMs: Math.min(...yardMs), medianMs: median(yardMs) },
    ratioMedian: median(reconMs) / median(yardMs),
    ratioPairedMedian: median(out.map((p) => p.reconMs / p.yardstickMs)),
  };
}
