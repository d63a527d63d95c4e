/**
 * Offline ledger: one transaction per line as MongoDB extended JSON (`{"$date": …}`,
 * `{"$numberDecimal": …}`), so a machine without MongoDB can run the same reconciliation. One
 * streaming pass serves every cut-off; lines are read as columns (ndjson-columns.ts), each value
 * converted once to fixed-point.
 */
import { basename } from 'node:path';
import { ReconError } from '../errors.js';
import { keyOf } from '../key.js';
import { readLedgerColumns } from './ndjson-columns.js';
import { MovementBuilder, PositionBuilder } from './positions.js';
import type { Cutoff, LedgerAdapter, LedgerRules, LedgerSnapshot } from './types.js';

export class NdjsonLedger implements LedgerAdapter {
  private schemes = new Map<string, string>();

  constructor(private readonly path: string, private readonly rules: LedgerRules) {}

  async snapshots(cutoffs: readonly Cutoff[]): Promise<LedgerSnapshot[]> {
    const builders = cutoffs.map((c) => new PositionBuilder(c, this.rules));
    const name = basename(this.path);
    try {
      for await (const cols of readLedgerColumns(this.path, this.rules.fields)) {
        for (let r = 0; r < cols.length; r++) {
          const when = cols.dateMs[r];
          const sample = `${name}:${cols.lineNo[r]}`;
          const units = Number.isNaN(cols.units[r]) ? null : cols.units[r];
          for (const b of builders) {
            if (Number.isNaN(when)) { b.badDates(1, sample); continue; }
            if (when >= b.snapshotCutoff()) continue;
            b.add({ productCode: cols.productCode[r], folio: cols.folio[r], type: cols.type[r], units, count: 1, sample });
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
      throw new ReconError('RECON_LEDGER_READ', `cannot read ledger ${name}: ${(err as Error).message}`, { file: name }, { cause: err });
    }
    return builders.map((b) => b.finish());
  }

  async movements(from: Date, to: Date): Promise<Map<string, { units: number; ids: string[] }>> {
    const builder = new MovementBuilder(this.rules);
    const name = basename(this.path);
    const [fromMs, toMs] = [from.getTime(), to.getTime()];
    for await (const cols of readLedgerColumns(this.path, this.rules.fields)) {
      for (let r = 0; r < cols.length; r++) {
        const when = cols.dateMs[r];
        if (Number.isNaN(when) || when < fromMs || when >= toMs) continue;
        const units = Number.isNaN(cols.units[r]) ? null : cols.units[r];
        builder.add(cols.productCode[r], cols.folio[r], cols.type[r], units, cols.id[r] ?? `${name}:${cols.lineNo[r]}`);
      }
    }
    return builder.movements;
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
