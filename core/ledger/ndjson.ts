/**
 * Offline ledger: one transaction per line as MongoDB extended JSON (`{"$date": …}`,
 * `{"$numberDecimal": …}`), so a machine without MongoDB can run the same reconciliation. One
 * pass serves every cut-off: the file is cut into byte ranges that the pool's threads read and sum
 * on their own (ndjson-range.ts), then joined here in file order into the positions, each key's
 * latest NAV, its scheme name and the transactions after the earliest cut-off (next-day
 * movements). Lines are read as columns (ndjson-columns.ts), each value converted once to
 * fixed-point.
 */
import { closeSync, fstatSync, openSync } from 'node:fs';
import { basename } from 'node:path';
import { ReconError } from '../errors.js';
import { keyOf } from '../keys/text-key.js';
import { readLedgerColumns, type LedgerScalar } from './ndjson-columns.js';
import {
  ledgerRanges,
  readLedgerRange,
  type LedgerRange,
  type LedgerRangeTask,
} from './ndjson-range.js';
import { JoinedLedger } from './ndjson-join.js';
import { MovementBuilder } from './positions.js';
import { changeOf, identityOf, type FileIdentity } from '../file-identity.js';
import {
  LATER_LIMIT,
  type Cutoff,
  type LedgerAdapter,
  type LedgerRules,
  type LedgerSnapshot,
} from './types.js';

/** Reads ranges elsewhere (the pool's threads), `parts` of them at once. */
export interface LedgerRangeRunner {
  run(task: LedgerRangeTask): Promise<LedgerRange>;
  parts: number;
}

/** The snapshots' read keeps the transactions dated on or after `fromMs`, as columns. */
interface LaterTransactions {
  fromMs: number;
  productCode: LedgerScalar[];
  folio: LedgerScalar[];
  type: LedgerScalar[];
  units: (number | null)[];
  id: string[];
  dateMs: number[];
}

/** What one pass over the file gives. */
interface Joined {
  keys: JoinedLedger;
  later: LaterTransactions | null;
}

/** The file as first opened: every read of the ledger is of this one file. */
interface OpenFile {
  fd: number;
  identity: FileIdentity;
}

export class NdjsonLedger implements LedgerAdapter {
  private joined: JoinedLedger | null = null;
  private later: LaterTransactions | null = null;
  private file: OpenFile | null = null;

  /** Without a runner the file is read here, as one range. */
  constructor(
    private readonly path: string,
    private readonly rules: LedgerRules,
    private readonly ranges: LedgerRangeRunner | null = null,
  ) {}

  async snapshots(cutoffs: readonly Cutoff[]): Promise<LedgerSnapshot[]> {
    const joined = await this.read(cutoffs);
    this.joined = joined.keys;
    this.later = joined.later;
    return joined.keys.snapshots;
  }

  /**
   * The file, opened on the first read and kept open until close(). The pool's threads read their
   * ranges through this descriptor: a file renamed over the path meanwhile (an export job replacing
   * the ledger) is not read, where opening the path per range would mix the two files' lines.
   */
  private open(): OpenFile {
    if (this.file === null) {
      const fd = openSync(this.path, 'r');
      this.file = { fd, identity: identityOf(fstatSync(fd)) };
    }
    return this.file;
  }

  /** Fails when the file was written to since it was opened: what was read may be no version. */
  private unchanged(file: OpenFile): void {
    // Through the descriptor: the file it reads cannot be replaced, only written to.
    const change = changeOf(file.identity, identityOf(fstatSync(file.fd)));
    if (change === null) return;
    const name = basename(this.path);
    throw new ReconError(
      'RECON_LEDGER_READ',
      `${name} was written to while it was read (${change}): run again once the ledger export has finished`,
      { file: name },
    );
  }

  private async read(cutoffs: readonly Cutoff[]): Promise<Joined> {
    const name = basename(this.path);
    const task: Omit<LedgerRangeTask, 'start' | 'end' | 'fd'> = {
      path: this.path,
      fields: this.rules.fields,
      typeSigns: this.rules.typeSigns,
      ignoreTypes: this.rules.ignoreTypes,
      ignoreUnmappedTypes: this.rules.ignoreUnmappedTypes,
      cutoffsMs: cutoffs.map((c) => c.cutoff.getTime()),
      // The next-day movements (timing reasons) come after the earliest cut-off: keep those
      // transactions now instead of parsing the whole file a second time.
      laterFromMs: Math.min(...cutoffs.map((c) => c.cutoff.getTime())),
      laterLimit: LATER_LIMIT,
    };
    const ranges: LedgerRange[] = [];
    try {
      const runner = this.ranges;
      const file = this.open();
      const spans = ledgerRanges(file.fd, runner?.parts ?? 1);
      const settled = await Promise.allSettled(
        spans.map((span) =>
          runner === null
            ? Promise.resolve(readLedgerRange({ ...task, ...span, fd: file.fd }))
            : runner.run({ ...task, ...span, fd: file.fd }),
        ),
      );
      // Before any line's error: a line cut by a writer is the writer's doing, not the ledger's.
      this.unchanged(file);
      // The first failure in file order is the one a single read would have met.
      let offset = 0;
      for (const s of settled) {
        if (s.status === 'rejected') throw s.reason;
        const f = s.value.failure;
        if (f !== null) {
          const line = offset + f.line;
          throw new ReconError(
            'RECON_LEDGER_READ',
            f.message.replace(`line ${f.line} `, `line ${line} `),
            { file: name, record: line },
          );
        }
        ranges.push(s.value);
        offset += s.value.lines;
      }
    } catch (err) {
      if (err instanceof ReconError) throw err;
      throw new ReconError(
        'RECON_LEDGER_READ',
        `cannot read ledger ${name}: ${(err as Error).message}`,
        { file: name },
        { cause: err },
      );
    }
    const keys = new JoinedLedger(name, cutoffs, ranges);
    return {
      keys,
      later: joinLater(ranges, task.laterFromMs, (i, id, line) => keys.transactionId(i, id, line)),
    };
  }

  async movements(from: Date, to: Date): Promise<Map<string, { units: number; ids: string[] }>> {
    const builder = new MovementBuilder(this.rules);
    const name = basename(this.path);
    const [fromMs, toMs] = [from.getTime(), to.getTime()];
    const later = this.later;
    if (later !== null && fromMs >= later.fromMs) {
      for (let r = 0; r < later.dateMs.length; r++) {
        const when = later.dateMs[r];
        if (when >= fromMs && when < toMs)
          builder.add(
            later.productCode[r],
            later.folio[r],
            later.type[r],
            later.units[r],
            later.id[r],
          );
      }
      return builder.movements;
    }
    const file = this.open();
    for await (const cols of readLedgerColumns(this.path, this.rules.fields, 8192, file.fd)) {
      for (let r = 0; r < cols.length; r++) {
        const when = cols.dateMs[r];
        if (Number.isNaN(when) || when < fromMs || when >= toMs) continue;
        const units = Number.isNaN(cols.units[r]) ? null : cols.units[r];
        builder.add(
          cols.productCode(r),
          cols.folio(r),
          cols.type(r),
          units,
          cols.id(r) ?? `${name}:${cols.lineNo[r]}`,
        );
      }
    }
    this.unchanged(file);
    return builder.movements;
  }

  async latestNavs(
    cutoff: Date,
    keys: readonly { productCode: string; folio: string }[],
  ): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (keys.length === 0) return out;
    let joined = this.joined;
    let c = joined?.snapshots.findIndex((s) => s.cutoff.getTime() === cutoff.getTime()) ?? -1;
    if (joined === null || c < 0) {
      joined = (await this.read([{ asOf: cutoff.toISOString(), cutoff }])).keys;
      c = 0;
    }
    for (const k of keys) {
      const text = keyOf(k.productCode, k.folio);
      const nav = joined.latestNav(c, text);
      if (nav !== undefined) out.set(text, nav);
    }
    return out;
  }

  async schemeNames(
    keys: readonly { productCode: string; folio: string }[],
  ): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const k of keys) {
      const text = keyOf(k.productCode, k.folio);
      const s = this.joined?.schemeName(text);
      if (s !== undefined) out.set(text, s);
    }
    return out;
  }

  async close(): Promise<void> {
    const file = this.file;
    this.file = null;
    if (file !== null) closeSync(file.fd);
  }
}

function joinLater(
  ranges: readonly LedgerRange[],
  fromMs: number,
  idOf: (range: number, id: string | null, line: number) => string,
): LaterTransactions | null {
  const out: LaterTransactions = {
    fromMs,
    productCode: [],
    folio: [],
    type: [],
    units: [],
    id: [],
    dateMs: [],
  };
  for (const [i, r] of ranges.entries()) {
    const l = r.later;
    if (l === null || out.dateMs.length + l.dateMs.length > LATER_LIMIT) return null;
    for (let t = 0; t < l.dateMs.length; t++) {
      out.productCode.push(l.productCode[t]);
      out.folio.push(l.folio[t]);
      out.type.push(l.type[t]);
      out.units.push(l.units[t]);
      out.id.push(idOf(i, l.id[t], l.line[t]));
      out.dateMs.push(l.dateMs[t]);
    }
  }
  return out;
}
