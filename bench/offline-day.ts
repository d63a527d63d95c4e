/**
 * An offline day for the whole-process bench: a CAMS and a KARVY file (the shapes of
 * fixtures/generate.ts) and an ndjson ledger of about `txPerKey` transactions a key, as
 * `mongoexport --jsonArray=false` writes it in relaxed extended JSON (numbers plain, dates as
 * `{"$date": …}`, one key in ten with `{"$numberDecimal": …}` units, one KARVY folio in seven
 * stored as a number). Deterministic, so passes and runs compare.
 *
 * Per key of a file (k = its index): one in 50 has no transaction (dbf_only), one in 50 nets off
 * by 1.2345 units (mismatched), one in 50 misses a BUY that lands the next morning (mismatched, the
 * timing reason), the rest net exactly to the file (matched). One key in 50 of the ledger's own is
 * in no file: half net to a balance (mongo_only), half to zero (closed). Transactions dated after
 * the next day count nowhere.
 */
import { once } from 'node:events';
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { generateFile, rowAt, type Shape } from '../fixtures/generate.js';

export const DAY_AS_OF = '2024-12-24';

export interface OfflineDay {
  dir: string;
  config: string;
  rows: Record<Shape, number>;
  transactions: number;
}

/**
 * DBF rows that give about `keys` live keys (every 20th row repeats a key, every 97th is deleted).
 */
export function rowsForKeys(keys: number): number {
  return Math.round(keys / ((19 / 20) * (96 / 97)));
}

/** Writes a fresh day into `parent`/day-<keys> and reports it to `emit` as a 'generate' measure. */
export async function generateOfflineDay(
  parent: string,
  keysPerSource: number,
  emit: (measure: Record<string, unknown>) => void,
): Promise<OfflineDay> {
  const dir = join(parent, `day-${keysPerSource}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  const day = await writeOfflineDay(dir, keysPerSource);
  emit({
    measure: 'generate',
    day: dir,
    keys_per_source: keysPerSource,
    rows_per_source: day.rows.cams,
    transactions: day.transactions,
    ms: Math.round(performance.now() - t0),
  });
  return day;
}

export async function writeOfflineDay(
  dir: string,
  keysPerSource: number,
  txPerKey = 6,
): Promise<OfflineDay> {
  const rows = rowsForKeys(keysPerSource);
  const out = createWriteStream(join(dir, 'ledger.ndjson'));
  let chunk = '';
  let transactions = 0;
  let id = 0;
  const emit = async (
    product: string,
    folio: string | number,
    type: 'BUY' | 'SELL',
    units: number,
    day: number,
    decimal: boolean,
  ) => {
    const u = units / 10_000;
    const value = decimal ? `{"$numberDecimal":"${u}"}` : String(u);
    const folioJson = typeof folio === 'number' ? String(folio) : `"${folio}"`;
    const hour = String(3 + (id % 15)).padStart(2, '0');
    chunk +=
      `{"_id":"t${++id}","product_code":"${product}","folio_no":${folioJson},"scheme_name":"Scheme ${product} Growth","units":${value},` +
      `"transaction_type":"${type}","transaction_date":{"$date":"2024-12-${String(day).padStart(2, '0')}T${hour}:12:00.000Z"}}\n`;
    transactions++;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  };
  // Net `units` over about txPerKey transactions: BUYs and two SELLs, all before the cut-off.
  const position = async (product: string, folio: string | number, units: number, k: number) => {
    const decimal = k % 10 === 3;
    const sells = [((k * 37) % 50_000) + 1, ((k * 91) % 70_000) + 1];
    const buys = Math.max(1, txPerKey - sells.length);
    let total = units + sells[0] + sells[1];
    for (let b = 0; b < buys; b++) {
      const part = b === buys - 1 ? total : Math.floor(total / (buys - b));
      total -= part;
      await emit(product, folio, 'BUY', part, 1 + ((k + b) % 23), decimal);
    }
    for (const s of sells) await emit(product, folio, 'SELL', s, 2 + ((k + s) % 22), decimal);
  };
  for (const [shape, fileNo] of [
    ['cams', 1],
    ['karvy', 2],
  ] as const) {
    generateFile(join(dir, `${shape}_20241224.dbf`), shape, rows, fileNo);
    const units = new Map<string, { product: string; units: number }>();
    for (let i = 0; i < rows; i++) {
      const r = rowAt(shape, fileNo, i);
      if (r.deleted) continue;
      const u = units.get(r.folio);
      if (u) u.units += r.units;
      else units.set(r.folio, { product: r.product, units: r.units });
    }
    let k = 0;
    for (const [folio, u] of units) {
      const f = shape === 'karvy' && k % 7 === 5 ? Number(folio) : folio;
      switch (k % 50) {
        case 7:
          break; // dbf_only
        case 13:
          await position(u.product, f, u.units + 12_345, k);
          break;
        case 21:
          await position(u.product, f, u.units - 5_000, k);
          await emit(u.product, f, 'BUY', 5_000, 25, false);
          break;
        default:
          await position(u.product, f, u.units, k);
      }
      if (k % 50 === 29) {
        // The ledger's own key, in no file: a balance (mongo_only) or a closed holding.
        const own = `9${folio}`;
        if (k % 100 === 29) await position(u.product, own, 10_000 + k, k);
        else {
          await emit(u.product, own, 'BUY', 20_000, 3, false);
          await emit(u.product, own, 'SELL', 20_000, 9, false);
        }
      }
      if (k % 10 === 1) await emit(u.product, f, 'SELL', 1, 27, false); // after the next day: counts nowhere
      k++;
    }
  }
  out.end(chunk);
  await finished(out);
  const config = join(dir, 'recon.config.yaml');
  await writeFile(
    config,
    `ledger: { type: ndjson, path: ./ledger.ndjson }
store: { type: files, dir: ./out }
sources:
  - { name: CAMS, plugin: cams, fetch: { type: local, dir: ., pattern: "cams_*.dbf" } }
  - { name: KARVY, plugin: karvy, fetch: { type: local, dir: ., pattern: "karvy_*.dbf" } }
`,
  );
  return { dir, config, rows: { cams: rows, karvy: rows }, transactions };
}
