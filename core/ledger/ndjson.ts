/**
 * Offline ledger: one transaction per line as MongoDB extended JSON (`{"$date": …}`,
 * `{"$numberDecimal": …}`), so a machine without MongoDB can run the same reconciliation. One
 * streaming pass serves every cut-off; each value converts once to fixed-point.
 */
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { BSON } from 'mongodb';
import { ReconError } from '../errors.js';
import { keyOf } from '../key.js';
import { unitsFromValue } from './mongodb.js';
import { LatestNavs } from './latest-nav.js';
import { MovementBuilder, PositionBuilder } from './positions.js';
import type { Cutoff, LedgerAdapter, LedgerRules, LedgerSnapshot } from './types.js';

export class NdjsonLedger implements LedgerAdapter {
  private schemes = new Map<string, string>();

  constructor(private readonly path: string, private readonly rules: LedgerRules) {}

  async snapshots(cutoffs: readonly Cutoff[]): Promise<LedgerSnapshot[]> {
    const f = this.rules.fields;
    const builders = cutoffs.map((c) => new PositionBuilder(c, this.rules));
    const lines = createInterface({ input: createReadStream(this.path, 'utf8'), crlfDelay: Infinity });
    let lineNo = 0;
    try {
      for await (const line of lines) {
        lineNo++;
        if (line.trim().length === 0) continue;
        let tx: Record<string, unknown>;
        try {
          tx = BSON.EJSON.parse(line, { relaxed: true }) as Record<string, unknown>;
        } catch (err) {
          throw new ReconError('RECON_LEDGER_READ', `${basename(this.path)}: line ${lineNo} is not extended JSON: ${(err as Error).message}`, { file: basename(this.path), record: lineNo }, { cause: err });
        }
        const when = tx[f.date];
        const sample = `${basename(this.path)}:${lineNo}`;
        const units = unitsFromValue(numberish(tx[f.units]));
        for (const b of builders) {
          if (!(when instanceof Date) || Number.isNaN(when.getTime())) { b.badDates(1, sample); continue; }
          if (when.getTime() >= b.snapshotCutoff()) continue;
          b.add({ productCode: numberish(tx[f.productCode]), folio: numberish(tx[f.folio]), type: tx[f.type], units, count: 1, sample });
        }
        const scheme = tx[f.schemeName];
        if (typeof scheme === 'string' && typeof tx[f.productCode] === 'string') {
          const key = keyOf(String(tx[f.productCode]).trim(), String(numberish(tx[f.folio])).trim());
          if (!this.schemes.has(key)) this.schemes.set(key, scheme.trim());
        }
      }
    } catch (err) {
      if (err instanceof ReconError) throw err;
      throw new ReconError('RECON_LEDGER_READ', `cannot read ledger ${basename(this.path)}: ${(err as Error).message}`, { file: basename(this.path) }, { cause: err });
    }
    return builders.map((b) => b.finish());
  }

  async movements(from: Date, to: Date): Promise<Map<string, { units: number; ids: string[] }>> {
    const f = this.rules.fields;
    const builder = new MovementBuilder(this.rules);
    for await (const { tx, id } of this.transactions()) {
      const when = tx[f.date];
      if (!(when instanceof Date) || when < from || when >= to) continue;
      builder.add(numberish(tx[f.productCode]), numberish(tx[f.folio]), tx[f.type], unitsFromValue(numberish(tx[f.units])), id);
    }
    return builder.movements;
  }

  async latestNavs(cutoff: Date, keys: readonly { productCode: string; folio: string }[]): Promise<Map<string, number>> {
    if (keys.length === 0) return new Map();
    const f = this.rules.fields;
    const picker = new LatestNavs(new Set(keys.map((k) => keyOf(k.productCode, k.folio))), cutoff);
    for await (const { tx, id } of this.transactions()) picker.add(numberish(tx[f.productCode]), numberish(tx[f.folio]), tx[f.date], numberish(tx[f.nav]), id);
    return picker.result();
  }

  /** Every transaction with its id (its `_id`, else file:line), for the passes after the snapshot. */
  private async *transactions(): AsyncGenerator<{ tx: Record<string, unknown>; id: string }> {
    const lines = createInterface({ input: createReadStream(this.path, 'utf8'), crlfDelay: Infinity });
    let lineNo = 0;
    for await (const line of lines) {
      lineNo++;
      if (line.trim().length === 0) continue;
      const tx = BSON.EJSON.parse(line, { relaxed: true }) as Record<string, unknown>;
      yield { tx, id: String(tx._id ?? `${basename(this.path)}:${lineNo}`) };
    }
  }

  async schemeNames(keys: readonly { productCode: string; folio: string }[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const k of keys) {
      const s = this.schemes.get(keyOf(k.productCode, k.folio));
      if (s !== undefined) out.set(keyOf(k.productCode, k.folio), s);
    }
    return out;
  }

  async close(): Promise<void> {}
}

/** Canonical EJSON wraps numbers ({"$numberInt": …}); relaxed values pass through. */
function numberish(value: unknown): unknown {
  if (typeof value === 'object' && value !== null) {
    const bson = (value as { _bsontype?: string })._bsontype;
    if (bson === 'Int32' || bson === 'Double') return (value as { valueOf(): number }).valueOf();
    if (bson === 'Long') return Number((value as { toString(): string }).toString());
  }
  return value;
}
