/**
 * Offline ledger: one transaction per line as MongoDB extended JSON (`{"$date": …}`,
 * `{"$numberDecimal": …}`), so a machine without MongoDB can run the same reconciliation. One
 * pass serves every cut-off: the file is cut into byte ranges that the pool's threads read and sum
 * on their own (ndjson-range.ts), then joined here in file order into the positions, each key's
 * latest NAV, its scheme name and the transactions after the earliest cut-off (next-day
 * movements). Lines are read as columns (ndjson-columns.ts), each value converted once to
 * fixed-point.
 */
import { basename } from 'node:path';
import { ReconError } from '../errors.js';
import { addUnits } from '../fixed-point.js';
import { keyOf } from '../keys/text-key.js';
import type { LedgerPosition } from '../reconcile.js';
import { LatestNavs } from './latest-nav.js';
import { readLedgerColumns, type LedgerScalar } from './ndjson-columns.js';
import {
  ledgerRanges,
  readLedgerRange,
  type LedgerRange,
  type LedgerRangeTask,
} from './ndjson-range.js';
import { MovementBuilder, unmappedTypes } from './positions.js';
import type { Cutoff, LedgerAdapter, LedgerRules, LedgerSnapshot } from './types.js';

/**
 * Transactions after a cut-off kept from the snapshots' read for movements(); beyond it, read
 * again.
 */
const LATER_LIMIT = 1_000_000;

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
  snapshots: LedgerSnapshot[];
  navs: LatestNavs[];
  later: LaterTransactions | null;
  schemes: Map<string, string>;
}

export class NdjsonLedger implements LedgerAdapter {
  private schemes = new Map<string, string>();
  private later: LaterTransactions | null = null;
  private readonly navs = new Map<number, LatestNavs>();

  /** Without a runner the file is read here, as one range. */
  constructor(
    private readonly path: string,
    private readonly rules: LedgerRules,
    private readonly ranges: LedgerRangeRunner | null = null,
  ) {}

  async snapshots(cutoffs: readonly Cutoff[]): Promise<LedgerSnapshot[]> {
    const joined = await this.read(cutoffs);
    this.schemes = joined.schemes;
    this.later = joined.later;
    for (const [i, c] of cutoffs.entries()) this.navs.set(c.cutoff.getTime(), joined.navs[i]);
    return joined.snapshots;
  }

  private async read(cutoffs: readonly Cutoff[]): Promise<Joined> {
    const name = basename(this.path);
    const task: Omit<LedgerRangeTask, 'start' | 'end'> = {
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
      const spans = ledgerRanges(this.path, runner?.parts ?? 1);
      const settled = await Promise.allSettled(
        spans.map((span) =>
          runner === null
            ? Promise.resolve(readLedgerRange({ ...task, ...span }))
            : runner.run({ ...task, ...span }),
        ),
      );
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
    return joinRanges(name, cutoffs, ranges, task.laterFromMs);
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
    for await (const cols of readLedgerColumns(this.path, this.rules.fields)) {
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
    return builder.movements;
  }

  async latestNavs(
    cutoff: Date,
    keys: readonly { productCode: string; folio: string }[],
  ): Promise<Map<string, number>> {
    if (keys.length === 0) return new Map();
    const wanted = new Set(keys.map((k) => keyOf(k.productCode, k.folio)));
    const read = this.navs.get(cutoff.getTime());
    if (read !== undefined) return read.result(wanted);
    const joined = await this.read([{ asOf: cutoff.toISOString(), cutoff }]);
    return joined.navs[0].result(wanted);
  }

  async schemeNames(
    keys: readonly { productCode: string; folio: string }[],
  ): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const k of keys) {
      const s = this.schemes.get(keyOf(k.productCode, k.folio));
      if (s !== undefined) out.set(keyOf(k.productCode, k.folio), s);
    }
    return out;
  }

  async close(): Promise<void> {}
}

/** The ranges' sums, in file order, as one read of the whole file would give them. */
function joinRanges(
  name: string,
  cutoffs: readonly Cutoff[],
  ranges: readonly LedgerRange[],
  laterFromMs: number,
): Joined {
  const keyTexts = ranges.map((r) => r.productCode.map((p, k) => keyOf(p, r.folio[k])));
  const firstLines: number[] = [];
  let lines = 0;
  for (const r of ranges) {
    firstLines.push(lines);
    lines += r.lines;
  }
  const idOf = (i: number, id: string | null, line: number) =>
    id ?? `${name}:${firstLines[i] + line}`;
  const snapshots = cutoffs.map((cutoff, c) => {
    const positions = new Map<string, LedgerPosition>();
    const snap: LedgerSnapshot = {
      ...cutoff,
      positions,
      transactions: 0,
      anomalies: { missingKey: 0, nonNumericUnits: 0, badDate: 0, samples: [] },
      ignoredTypes: {},
    };
    const unmapped = new Map<string, number>();
    ranges.forEach((r, i) => {
      const rc = r.cutoffs[c];
      for (const k of rc.order) {
        const key = keyTexts[i][k];
        const pos = positions.get(key);
        if (pos === undefined)
          positions.set(key, {
            productCode: r.productCode[k],
            folio: r.folio[k],
            units: rc.units[k],
            transactions: rc.transactions[k],
          });
        else {
          pos.units = addUnits(pos.units, rc.units[k]);
          pos.transactions += rc.transactions[k];
        }
      }
      snap.transactions += rc.counted;
      const a = snap.anomalies;
      a.missingKey += rc.missingKey;
      a.nonNumericUnits += rc.nonNumericUnits;
      a.badDate += rc.badDate;
      for (const line of rc.sampleLines)
        if (a.samples.length < 10) a.samples.push(`${name}:${firstLines[i] + line}`);
      for (const [t, n] of Object.entries(rc.ignoredTypes))
        snap.ignoredTypes[t] = (snap.ignoredTypes[t] ?? 0) + n;
      for (const [t, n] of Object.entries(rc.unmappedTypes))
        unmapped.set(t, (unmapped.get(t) ?? 0) + n);
    });
    if (unmapped.size > 0) throw unmappedTypes(cutoff.asOf, unmapped);
    return snap;
  });
  const navs = cutoffs.map((cutoff, c) => {
    const picker = new LatestNavs(null, cutoff.cutoff);
    ranges.forEach((r, i) => {
      const rc = r.cutoffs[c];
      for (let k = 0; k < rc.navAt.length; k++) {
        if (Number.isNaN(rc.navAt[k])) continue;
        const key = keyTexts[i][k];
        picker.offer(key, rc.navAt[k], idOf(i, rc.navId[k], rc.navLine[k]), rc.nav[k]);
        for (const t of rc.navTies[k] ?? [])
          picker.offer(key, rc.navAt[k], idOf(i, t.id, t.line), t.nav);
      }
    });
    return picker;
  });
  const schemes = new Map<string, string>();
  ranges.forEach((r, i) =>
    r.scheme.forEach((s, k) => {
      if (s !== null && !schemes.has(keyTexts[i][k])) schemes.set(keyTexts[i][k], s);
    }),
  );
  return { snapshots, navs, later: joinLater(ranges, laterFromMs, idOf), schemes };
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
