/**
 * The MongoDB ledger. Aggregation happens in the server: $match up to the cut-off, $group by key
 * and type, $sum. Only groups cross the wire, never every transaction.
 *
 * Exactness: numeric units (double, int, long) are summed by the server and the sum is accepted
 * only when it lies within 10^-6 of the 10^-4 grid, which holds whenever each value has at most
 * four decimals; otherwise that one group is re-read and summed value by value in fixed-point.
 * Decimal128 and numeric strings are grouped by value (exact text) and converted once each.
 *
 * FerretDB 1.24 computes only the first accumulator of a $group (the others come back 0), so every
 * $group here has exactly one accumulator. Its $group is also quadratic in the number of groups
 * (a day of tens of thousands of keys takes minutes), so `aggregation: client` streams the day's
 * transactions with a projection and aggregates them here instead, converting each value once.
 *
 * Nothing is asked per break or per batch of breaks: the scheme names of mongo_only rows come from
 * the aggregation or the stream; the next-day movements (timing reasons) from the stream, which
 * runs a day past the last cut-off, or in `server` mode from one range read beside the
 * aggregation; in `client` mode the ledger NAVs of breaks from the stream too.
 */
import type { Collection, Document } from 'mongodb';
import { ReconError } from '../errors.js';
import { addUnits, unitsFromDouble, unitsFromDoubleSum } from '../fixed-point.js';
import { unitsFromValue } from './units-value.js';
import { keyOf } from '../keys/text-key.js';
import { mongoClient, mongoError } from '../mongo-client.js';
import { LatestNavs } from './latest-nav.js';
import { MovementBuilder, PositionBuilder } from './positions.js';
import {
  LATER_LIMIT,
  type Cutoff,
  type LedgerAdapter,
  type LedgerRules,
  type LedgerSnapshot,
} from './types.js';

export interface MongoLedgerOptions {
  uri: string;
  database: string;
  collection: string;
  rules: LedgerRules;
  /** server: $group in MongoDB (default); client: stream the transactions and sum them here. */
  aggregation?: 'server' | 'client';
}

const NUMERIC_TYPES = ['double', 'int', 'long'];

/**
 * How far past the last cut-off the snapshots' read keeps transactions for the next-day movements:
 * the next day ends 24 hours after the cut-off, give or take a daylight-saving shift.
 */
const LATER_MS = 48 * 3600_000;
/** Keys whose NAVs one query asks for by name; beyond, it reads every NAV before the cut-off. */
const NAV_KEYS_PER_QUERY = 50_000;

/** One transaction kept for the movements. */
interface Movement {
  p: unknown;
  fo: unknown;
  t: unknown;
  units: number | null;
  id: string;
  at: number;
}

/** Transactions dated in [fromMs, toMs), kept from the snapshots' read. */
interface Later {
  fromMs: number;
  toMs: number;
  moves: Movement[];
}

export class MongoLedger implements LedgerAdapter {
  /**
   * Each key's scheme name (the least non-blank one), collected while the snapshots read the
   * ledger.
   */
  private readonly schemes = new Map<string, string>();
  /** The transactions after the earliest cut-off, when the snapshots' read kept them. */
  private later: Later | null = null;
  /** `client` mode: every key's latest NAV before each cut-off (by cut-off time). */
  private readonly navs = new Map<number, LatestNavs>();

  constructor(private readonly options: MongoLedgerOptions) {}

  private noteScheme(productCode: unknown, folio: unknown, scheme: unknown): void {
    if (
      typeof scheme !== 'string' ||
      typeof productCode !== 'string' ||
      (typeof folio !== 'string' && typeof folio !== 'number')
    )
      return;
    const name = scheme.trim();
    if (name.length === 0) return;
    const key = keyOf(productCode.trim(), String(folio).trim());
    const seen = this.schemes.get(key);
    if (seen === undefined || name < seen) this.schemes.set(key, name);
  }

  private async collection(): Promise<Collection> {
    const client = await mongoClient(this.options.uri);
    return client.db(this.options.database).collection(this.options.collection);
  }

  async snapshots(cutoffs: readonly Cutoff[]): Promise<LedgerSnapshot[]> {
    if (cutoffs.length === 0) return [];
    const col = await this.collection();
    const times = cutoffs.map((c) => c.cutoff.getTime());
    const window = { fromMs: Math.min(...times), toMs: Math.max(...times) + LATER_MS };
    if (this.options.aggregation === 'client') return this.clientSnapshots(col, cutoffs, window);
    // The next-day movements are read beside the aggregation, in the ledger stage.
    const [snaps, later] = await Promise.all([
      Promise.all(cutoffs.map((c) => this.snapshot(col, c))),
      this.readLater(col, window),
    ]);
    this.later = later;
    return snaps;
  }

  private async snapshot(col: Collection, cutoff: Cutoff): Promise<LedgerSnapshot> {
    const f = this.options.rules.fields;
    const builder = new PositionBuilder(cutoff, this.options.rules);
    const inDay = { [f.date]: { $lt: cutoff.cutoff } };
    const groupId = { p: `$${f.productCode}`, fo: `$${f.folio}`, t: `$${f.type}` };
    try {
      // Sum and count in two pipelines (one accumulator each), joined on the group id.
      const numericMatch = { $match: { ...inDay, [f.units]: { $type: NUMERIC_TYPES } } };
      // The count pipeline also groups by scheme name: the names of mongo_only rows come from here,
      // not from a query per batch of breaks (a key rarely has more than one name, so the groups
      // are about as many).
      const [sums, counts] = await Promise.all([
        col
          .aggregate([numericMatch, { $group: { _id: groupId, u: { $sum: `$${f.units}` } } }], {
            allowDiskUse: true,
          })
          .toArray(),
        col
          .aggregate(
            [
              numericMatch,
              { $group: { _id: { ...groupId, s: `$${f.schemeName}` }, n: { $sum: 1 } } },
            ],
            { allowDiskUse: true },
          )
          .toArray(),
      ]);
      const countOf = new Map<string, number>();
      for (const g of counts) {
        const id = g._id as { p: unknown; fo: unknown; s: unknown };
        const k = groupKey(id);
        countOf.set(k, (countOf.get(k) ?? 0) + (g.n as number));
        this.noteScheme(id.p, id.fo, id.s);
      }
      for (const g of sums) {
        const id = g._id as { p: unknown; fo: unknown; t: unknown };
        let units = unitsFromDoubleSum(g.u as number);
        if (units === null) units = await this.exactSum(col, cutoff, id);
        builder.add({
          productCode: id.p,
          folio: id.fo,
          type: id.t,
          units,
          count: countOf.get(groupKey(id)) ?? 0,
          sample: sampleOf({ ...id, u: g.u }),
        });
      }
      // Everything else: Decimal128, strings, null, missing. Grouped by value so each distinct
      // value converts once.
      const other = col.aggregate(
        [
          { $match: { ...inDay, [f.units]: { $not: { $type: NUMERIC_TYPES } } } },
          {
            $group: {
              _id: { ...groupId, u: `$${f.units}`, s: `$${f.schemeName}` },
              n: { $sum: 1 },
            },
          },
        ],
        { allowDiskUse: true },
      );
      for await (const g of other) {
        const id = g._id as { p: unknown; fo: unknown; t: unknown; u: unknown; s?: unknown };
        this.noteScheme(id.p, id.fo, id.s);
        delete id.s;
        builder.add({
          productCode: id.p,
          folio: id.fo,
          type: id.t,
          units: unitsFromValue(id.u),
          count: g.n as number,
          sample: sampleOf(id),
        });
      }
      const badDates = await col
        .aggregate([{ $match: { [f.date]: { $not: { $type: 'date' } } } }, { $count: 'n' }])
        .toArray();
      if (badDates.length > 0) builder.badDates(badDates[0].n as number);
      const snapshot = builder.finish();
      return snapshot;
    } catch (err) {
      throw readError(err, `ledger aggregation failed for as-of ${cutoff.asOf}`);
    }
  }

  /**
   * One stream of the transactions up to a day past the last cut-off (seven fields each), summed
   * here in fixed-point for every cut-off; it also keeps the later transactions for the next-day
   * movements and each key's latest NAV for the breaks' values.
   */
  private async clientSnapshots(
    col: Collection,
    cutoffs: readonly Cutoff[],
    window: { fromMs: number; toMs: number },
  ): Promise<LedgerSnapshot[]> {
    const f = this.options.rules.fields;
    const builders = cutoffs.map((c) => new PositionBuilder(c, this.options.rules));
    const ends = builders.map((b) => b.snapshotCutoff());
    const lastEnd = Math.max(...ends);
    const pickers = cutoffs.map((c) => new LatestNavs(null, c.cutoff));
    let later: Later | null = { ...window, moves: [] };
    try {
      const projection = {
        [f.productCode]: 1,
        [f.folio]: 1,
        [f.type]: 1,
        [f.units]: 1,
        [f.schemeName]: 1,
        [f.date]: 1,
        [f.nav]: 1,
      };
      const filter = { [f.date]: { $lt: new Date(window.toMs) } };
      for await (const tx of col.find(filter, { projection, batchSize: 10_000 })) {
        const [p, fo, t, when] = [tx[f.productCode], tx[f.folio], tx[f.type], tx[f.date]];
        const at = when instanceof Date ? when.getTime() : NaN;
        const units = unitsFromValue(tx[f.units]);
        const id = String(tx._id);
        // Names as the snapshots see them: of transactions before a cut-off.
        if (at < lastEnd) this.noteScheme(p, fo, tx[f.schemeName]);
        if (at >= window.fromMs && later !== null) {
          if (later.moves.length === LATER_LIMIT) later = null;
          else later.moves.push({ p, fo, t, units, id, at });
        }
        for (let i = 0; i < builders.length; i++) {
          if (!(at < ends[i])) continue;
          builders[i].add({ productCode: p, folio: fo, type: t, units, count: 1, sample: id });
          pickers[i].add(p, fo, when, tx[f.nav], id);
        }
      }
      const badDates = await col.countDocuments({ [f.date]: { $not: { $type: 'date' } } });
      if (badDates > 0) for (const b of builders) b.badDates(badDates);
      this.later = later;
      for (const [i, c] of cutoffs.entries()) this.navs.set(c.cutoff.getTime(), pickers[i]);
      return builders.map((b) => b.finish());
    } catch (err) {
      throw readError(err, `ledger read failed for as-of ${cutoffs.map((c) => c.asOf).join(', ')}`);
    }
  }

  /** The transactions of [fromMs, toMs), for the next-day movements; null when too many. */
  private async readLater(
    col: Collection,
    window: { fromMs: number; toMs: number },
  ): Promise<Later | null> {
    const later: Later = { ...window, moves: [] };
    try {
      for await (const m of this.moves(col, new Date(window.fromMs), new Date(window.toMs))) {
        if (later.moves.length === LATER_LIMIT) return null;
        later.moves.push(m);
      }
    } catch (err) {
      throw readError(err, 'ledger read of the transactions after the cut-off failed');
    }
    return later;
  }

  /** The transactions dated in [from, to). */
  private async *moves(col: Collection, from: Date, to: Date): AsyncGenerator<Movement> {
    const f = this.options.rules.fields;
    const projection = { [f.productCode]: 1, [f.folio]: 1, [f.type]: 1, [f.units]: 1, [f.date]: 1 };
    for await (const tx of col.find({ [f.date]: { $gte: from, $lt: to } }, { projection })) {
      const when = tx[f.date];
      yield {
        p: tx[f.productCode],
        fo: tx[f.folio],
        t: tx[f.type],
        units: unitsFromValue(tx[f.units]),
        id: String(tx._id),
        at: when instanceof Date ? when.getTime() : NaN,
      };
    }
  }

  /** The rare group whose float sum is off the 10^-4 grid: sum its values one by one, exactly. */
  private async exactSum(
    col: Collection,
    cutoff: Cutoff,
    id: { p: unknown; fo: unknown; t: unknown },
  ): Promise<number | null> {
    const f = this.options.rules.fields;
    const filter: Document = {
      [f.date]: { $lt: cutoff.cutoff },
      [f.units]: { $type: NUMERIC_TYPES },
      [f.productCode]: id.p ?? null,
      [f.folio]: id.fo ?? null,
      [f.type]: id.t ?? null,
    };
    let total = 0;
    for await (const doc of col.find(filter, { projection: { _id: 0, [f.units]: 1 } })) {
      const units = unitsFromDouble(Number(doc[f.units]));
      if (units === null) return null;
      total = addUnits(total, units);
    }
    return total;
  }

  async movements(from: Date, to: Date): Promise<Map<string, { units: number; ids: string[] }>> {
    const builder = new MovementBuilder(this.options.rules);
    const [fromMs, toMs] = [from.getTime(), to.getTime()];
    const later = this.later;
    if (later !== null && fromMs >= later.fromMs && toMs <= later.toMs) {
      for (const m of later.moves)
        if (m.at >= fromMs && m.at < toMs) builder.add(m.p, m.fo, m.t, m.units, m.id);
      return builder.movements;
    }
    const col = await this.collection();
    try {
      for await (const m of this.moves(col, from, to)) builder.add(m.p, m.fo, m.t, m.units, m.id);
    } catch (err) {
      throw readError(err, 'ledger read of the next-day movements failed');
    }
    return builder.movements;
  }

  async latestNavs(
    cutoff: Date,
    keys: readonly { productCode: string; folio: string }[],
  ): Promise<Map<string, number>> {
    const wanted = new Set(keys.map((k) => keyOf(k.productCode, k.folio)));
    const streamed = this.navs.get(cutoff.getTime());
    if (streamed !== undefined) return streamed.result(wanted);
    const f = this.options.rules.fields;
    const col = await this.collection();
    const picker = new LatestNavs(wanted, cutoff);
    // One query for every key: the keys' product codes and folios as two $in lists (a superset,
    // filtered here), or, for more keys than such lists should carry, every transaction with a
    // NAV before the cut-off. A find, not a $group with $sort/$first: the same on FerretDB (one
    // accumulator) and MongoDB.
    const filter: Document = { [f.date]: { $lt: cutoff }, [f.nav]: { $exists: true } };
    if (keys.length <= NAV_KEYS_PER_QUERY) {
      const folios = new Set<unknown>();
      for (const k of keys) {
        folios.add(k.folio);
        if (/^\d{1,15}$/.test(k.folio)) folios.add(Number(k.folio));
      }
      filter[f.productCode] = { $in: [...new Set(keys.map((k) => k.productCode))] };
      filter[f.folio] = { $in: [...folios] };
    }
    try {
      const projection = { [f.productCode]: 1, [f.folio]: 1, [f.date]: 1, [f.nav]: 1 };
      for await (const tx of col.find(filter, { projection }))
        picker.add(tx[f.productCode], tx[f.folio], tx[f.date], tx[f.nav], String(tx._id));
    } catch (err) {
      throw readError(err, `ledger NAV lookup failed before ${cutoff.toISOString()}`);
    }
    return picker.result();
  }

  /** Names of keys the snapshots saw (every mongo_only row is one): no query per key or batch. */
  async schemeNames(
    keys: readonly { productCode: string; folio: string }[],
  ): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const k of keys) {
      const key = keyOf(k.productCode, k.folio);
      const name = this.schemes.get(key);
      if (name !== undefined) out.set(key, name);
    }
    return out;
  }

  async close(): Promise<void> {
    // The client is shared per process; closeMongoClients() ends it.
  }
}

/** A failed read as RECON_LEDGER_READ (a ReconError passes through as it is). */
function readError(err: unknown, what: string): ReconError {
  return mongoError(err, 'RECON_LEDGER_READ', what);
}

function sampleOf(id: { p: unknown; fo: unknown; t: unknown; u: unknown }): string {
  return `${String(id.p)}/${String(id.fo)}/${String(id.t)} units=${JSON.stringify(id.u)}`;
}

function groupKey(id: unknown): string {
  const g = id as { p?: unknown; fo?: unknown; t?: unknown };
  return JSON.stringify([g.p ?? null, g.fo ?? null, g.t ?? null]);
}
