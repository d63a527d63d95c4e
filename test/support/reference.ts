/**
 * Reference implementations that tests and the bench check the fast path against: a key's holding
 * as an object, judged by looking its string key up in a Map of ledger positions, and a table
 * merged on the calling thread. The engine itself never uses them.
 */
import type { RangeRows } from '../../core/dbf/decoder.js';
import { HoldingTable, assembleTable, mergeTasks } from '../../core/holding-table.js';
import type { KeySpace } from '../../core/keys/key-space.js';
import { keyOf, splitKey } from '../../core/keys/text-key.js';
import { mergePartition, type MergeTask, type PartitionTable } from '../../core/merge-judge.js';
import type { PositionIndex } from '../../core/position-index.js';
import {
  FILE_STATUSES,
  emptyCounts,
  statusCode,
  type LedgerPosition,
  type ReconRow,
  type SourceDay,
  type StatusCounts,
} from '../../core/reconcile.js';

/** One key of a source's files, summed. */
export interface Holding {
  key: string;
  productCode: string;
  folio: string;
  schemeName: string | null;
  /** Ten-thousandths. */
  units: number;
  /** How many file rows were summed into this key. */
  rows: number;
  /** Pledged units (KARVY PLDG), ten-thousandths; 0 when the file has none. */
  pledged?: number;
  /** The folio before a change (CAMS FOLIO_OLD), when the file gives one. */
  folioOld?: string | null;
  /** NAV from the file (ten-thousandths of a rupee); null when the file has none for the key. */
  nav?: number | null;
}

export interface SourceHoldings extends SourceDay {
  holdings: Iterable<Holding>;
}

/** A HoldingTable read as holdings: by string key, by position, in order, and counted. */
export class ReferenceTable extends HoldingTable {
  get(key: string): Holding | undefined {
    const at = this.indexOf(key);
    return at < 0 ? undefined : this.holdingAt(at);
  }

  indexOf(key: string): number {
    const [productCode, folio] = splitKey(key);
    return this.find(productCode, folio);
  }

  holdingAt(i: number): Holding {
    const [p, at] = this.locate(i);
    return this.holdingIn(p, at);
  }

  /** How many keys have each status (mongo_only is never a file key's). */
  statusCounts(): StatusCounts {
    const out = emptyCounts();
    for (const p of this.parts)
      p.statusCounts.forEach((n, code) => {
        out[FILE_STATUSES[code]] += n;
      });
    return out;
  }

  /** Holdings in partition order. */
  *[Symbol.iterator](): IterableIterator<Holding> {
    for (let p = 0; p < this.parts.length; p++)
      for (let at = 0; at < this.parts[p].keys.size; at++) yield this.holdingIn(p, at);
  }

  private holdingIn(p: number, at: number): Holding {
    const part = this.parts[p];
    const productCode = this.space.products[part.keys.pid[at]];
    const folio = this.space.folioText(part.keys.folio[at]);
    const old = part.folioOld ? part.folioOld[at] : -1;
    return {
      key: keyOf(productCode, folio),
      productCode,
      folio,
      schemeName: part.scheme[at] < 0 ? null : this.schemeNames[part.scheme[at]],
      units: part.units[at],
      rows: part.rows[at],
      pledged: this.pledgedIn(p, at),
      folioOld: old < 0 ? null : part.folioOldTexts[old],
      nav: this.navIn(p, at),
    };
  }
}

/** assembleTable, read as a ReferenceTable; merged by `merge` (the pool's). */
export function assembleReference(
  ranges: readonly RangeRows[],
  space: KeySpace,
  ledger: PositionIndex | null,
  tolerance: number,
  merge: (task: MergeTask) => Promise<PartitionTable>,
): Promise<ReferenceTable> {
  return assembleTable(ranges, space, ledger, tolerance, merge, ReferenceTable);
}

/** assembleTable, merged on this thread. */
export function assembleTableSync(
  ranges: readonly RangeRows[],
  space: KeySpace,
  ledger: PositionIndex | null = null,
  tolerance = 0,
): ReferenceTable {
  const { tasks, schemeNames, products } = mergeTasks(ranges, space, ledger, tolerance);
  const parts = tasks.map((t) => mergePartition(t));
  return new ReferenceTable(space, parts, schemeNames, ledger, products);
}

/** One key of a source's files against the ledger as of that source's day, by string key. */
export function judgeHolding(
  src: SourceDay,
  h: Holding,
  positions: ReadonlyMap<string, LedgerPosition>,
  tolerance: number,
): ReconRow {
  const pos = positions.get(h.key);
  const mongoUnits = pos ? pos.units : null;
  return {
    source: src.source,
    status: FILE_STATUSES[statusCode(mongoUnits, h.units, tolerance)],
    asOf: src.asOf,
    productCode: h.productCode,
    folio: h.folio,
    schemeName: h.schemeName,
    dbfUnits: h.units,
    mongoUnits,
    difference: (mongoUnits ?? 0) - h.units,
    dbfRows: h.rows,
    decimals: src.decimals,
    pledged: h.pledged,
    folioOld: h.folioOld,
    nav: h.nav ?? null,
  };
}

/** Every key of one source's files against the ledger; rows are made lazily. */
export function* reconcileSource(
  src: SourceHoldings,
  positions: ReadonlyMap<string, LedgerPosition>,
  tolerance: number,
): Generator<ReconRow> {
  for (const h of src.holdings) yield judgeHolding(src, h, positions, tolerance);
}
