/**
 * Offline ledger: one transaction per line as MongoDB extended JSON (`{"$date": …}`,
 * `{"$numberDecimal": …}`), so a machine without MongoDB can run the same reconciliation. One
 * streaming pass serves every cut-off and keeps the transactions after the earliest cut-off for
 * the next-day movements; lines are read as columns (ndjson-columns.ts), each value converted once
 * to fixed-point.
 */
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { BSON } from 'mongodb';
import { ReconError } from '../errors.js';
import { keyOf } from '../keys/text-key.js';
import { LatestNavs } from './latest-nav.js';
import { numberish, readLedgerColumns, type LedgerScalar } from './ndjson-columns.js';
import { MovementBuilder, PositionBuilder } from './positions.js';
import type { Cutoff, LedgerAdapter, LedgerRules, LedgerSnapshot } from './types.js';

/**
 * Transactions after a cut-off kept from the snapshots' read for movements(); beyond it, read
 * again.
 */
const LATER_LIMIT = 1_000_000;

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

export class NdjsonLedger implements LedgerAdapter {
  private schemes = new Map<string, string>();
  private later: LaterTransactions | null = null;

  constructor(
    private readonly path: string,
    private readonly rules: LedgerRules,
  ) {}

  async snapshots(cutoffs: readonly Cutoff[]): Promise<LedgerSnapshot[]> {
    const builders = cutoffs.map((c) => new PositionBuilder(c, this.rules));
    const name = basename(this.path);
    // The next-day movements (timing reasons) come after the earliest cut-off: keep those
    // transactions now instead of parsing the whole file a second time.
    const fromMs = Math.min(...cutoffs.map((c) => c.cutoff.getTime()));
    let later: LaterTransactions | null = {
      fromMs,
      productCode: [],
      folio: [],
      type: [],
      units: [],
      id: [],
      dateMs: [],
    };
    try {
      for await (const cols of readLedgerColumns(this.path, this.rules.fields)) {
        for (let r = 0; r < cols.length; r++) {
          const when = cols.dateMs[r];
          const sample = `${name}:${cols.lineNo[r]}`;
          const units = Number.isNaN(cols.units[r]) ? null : cols.units[r];
          if (later !== null && when >= fromMs) {
            if (later.dateMs.length === LATER_LIMIT) later = null;
            else {
              later.productCode.push(cols.productCode[r]);
              later.folio.push(cols.folio[r]);
              later.type.push(cols.type[r]);
              later.units.push(units);
              later.id.push(cols.id[r] ?? sample);
              later.dateMs.push(when);
            }
          }
          for (const b of builders) {
            if (Number.isNaN(when)) {
              b.badDates(1, sample);
              continue;
            }
            if (when >= b.snapshotCutoff()) continue;
            b.add({
              productCode: cols.productCode[r],
              folio: cols.folio[r],
              type: cols.type[r],
              units,
              count: 1,
              sample,
            });
          }
          const scheme = cols.schemeName[r];
          const productCode = cols.productCode[r];
          if (scheme !== null && typeof productCode === 'string') {
            const key = keyOf(productCode.trim(), String(cols.folio[r]).trim());
            if (!this.schemes.has(key)) this.schemes.set(key, scheme.trim());
          }
        }
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
    this.later = later;
    return builders.map((b) => b.finish());
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
          cols.productCode[r],
          cols.folio[r],
          cols.type[r],
          units,
          cols.id[r] ?? `${name}:${cols.lineNo[r]}`,
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
    const f = this.rules.fields;
    const picker = new LatestNavs(new Set(keys.map((k) => keyOf(k.productCode, k.folio))), cutoff);
    for await (const { tx, id } of this.transactions())
      picker.add(
        numberish(tx[f.productCode]),
        numberish(tx[f.folio]),
        tx[f.date],
        numberish(tx[f.nav]),
        id,
      );
    return picker.result();
  }

  /**
   * Every transaction as extended JSON, with its id (its `_id`, else file:line): NAV look-ups only,
   * for a few keys.
   */
  private async *transactions(): AsyncGenerator<{ tx: Record<string, unknown>; id: string }> {
    const lines = createInterface({
      input: createReadStream(this.path, 'utf8'),
      crlfDelay: Infinity,
    });
    let lineNo = 0;
    for await (const line of lines) {
      lineNo++;
      if (line.trim().length === 0) continue;
      const tx = BSON.EJSON.parse(line, { relaxed: true }) as Record<string, unknown>;
      yield { tx, id: String(tx._id ?? `${basename(this.path)}:${lineNo}`) };
    }
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
