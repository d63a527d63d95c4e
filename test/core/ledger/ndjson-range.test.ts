import { expect } from 'chai';
import { appendFile, mkdir, mkdtemp, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BSON } from 'mongodb';
import { ReconError } from '../../../core/errors.js';
import { LatestNavs } from '../../../core/ledger/latest-nav.js';
import { numberish } from '../../../core/ledger/ndjson-columns.js';
import { MovementBuilder, PositionBuilder } from '../../../core/ledger/positions.js';
import { unitsFromValue } from '../../../core/ledger/units-value.js';
import { NdjsonLedger } from '../../../core/ledger/ndjson.js';
import { ledgerRanges, readLedgerRange } from '../../../core/ledger/ndjson-range.js';
import { ReconPool } from '../../../core/pool.js';
import type { Positions } from '../../../core/reconcile.js';
import { keyOf } from '../../../core/keys/text-key.js';
import { LEDGER_RULES } from '../../support/config.js';

const day1 = { asOf: '2024-12-24', cutoff: new Date('2024-12-24T18:30:00Z') };
const day2 = { asOf: '2024-12-25', cutoff: new Date('2024-12-25T18:30:00Z') };
const rules = { ...LEDGER_RULES, ignoreTypes: ['DIVIDEND'] };

/** A ledger line; `extra` is put in as it is (a nav, a scheme name). */
function tx(
  id: string | null,
  product: string,
  folio: string,
  type: string,
  units: string,
  date: string,
  extra = '',
): string {
  return `{${id === null ? '' : `"_id":"${id}",`}"product_code":"${product}","folio_no":${folio},"units":${units},"transaction_type":"${type}","transaction_date":{"$date":"${date}"}${extra}}`;
}

// Lines that exercise every sum a range keeps: keys met in several ranges, NAV ties decided by
// the file's line numbers (no _id), anomalies with their lines, ignored types, blank lines, names.
const LINES = [
  tx('a', 'B01', '"1"', 'BUY', '10', '2024-12-20T09:00:00Z', ',"nav":10.5,"scheme_name":" One "'),
  tx(null, 'B01', '"1"', 'BUY', '1', '2024-12-21T09:00:00Z', ',"nav":11'),
  '',
  tx(null, 'B01', '"1"', 'SELL', '0.5', '2024-12-21T09:00:00Z', ',"nav":12'),
  tx('c', 'B02', '7', 'BUY', '{"$numberDecimal":"3.3333"}', '2024-12-22T09:00:00Z', ',"nav":"40"'),
  tx('d', 'B02', '"7"', 'DIVIDEND', '1', '2024-12-22T10:00:00Z', ',"nav":41'),
  tx('e', 'B03', '""', 'BUY', '1', '2024-12-22T10:00:00Z'),
  tx('f', 'B03', '"9"', 'BUY', '"abc"', '2024-12-22T10:00:00Z', ',"scheme_name":"Nine"'),
  '{"_id":"g","product_code":"B03","folio_no":"9","units":1,"transaction_type":"BUY","transaction_date":"2024-12-22"}',
  '   ',
  tx(null, 'B01', '"1"', 'BUY', '2.25', '2024-12-24T18:30:00Z', ',"nav":13'),
  tx('h', 'B04', '"5"', 'SELL', '5', '2024-12-25T10:00:00Z', ',"nav":0'),
  tx(null, 'B01', '"1"', 'BUY', '1', '2024-12-21T09:00:00Z', ',"nav":11.5'),
  tx('i', 'B02', '"7"', 'BUY', '1', '2024-12-26T01:00:00Z', ',"nav":50'),
];

describe('ndjson ledger read in byte ranges', () => {
  let dir: string;
  let path: string;
  let pool: ReconPool;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ndjson-range-'));
    path = join(dir, 'ledger.ndjson');
    await writeFile(path, LINES.join('\n') + '\n');
    pool = new ReconPool(2);
  });
  after(async () => {
    await pool.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Everything a ledger gives for the two days, as plain data. */
  async function everything(ledger: NdjsonLedger) {
    const snaps = await ledger.snapshots([day1, day2]);
    const keys = [
      { productCode: 'B01', folio: '1' },
      { productCode: 'B02', folio: '7' },
      { productCode: 'B03', folio: '9' },
      { productCode: 'B04', folio: '5' },
    ];
    const plain = <V>(m: Map<string, V>) =>
      Object.fromEntries([...m].map(([k, v]) => [k.replace('\u0000', '/'), v]));
    return {
      snapshots: snaps.map((s) => ({ ...s, positions: [...s.positions.values()] })),
      navs: await Promise.all(
        [day1, day2].map(async (d) => plain(await ledger.latestNavs(d.cutoff, keys))),
      ),
      moves: plain(await ledger.movements(day1.cutoff, day2.cutoff)),
      names: plain(await ledger.schemeNames(keys)),
    };
  }

  it('gives what one read of the whole file gives, however the file is cut and wherever the ranges are read', async () => {
    const whole = await everything(new NdjsonLedger(path, rules));
    expect(whole.snapshots[0].positions).to.deep.equal([
      { productCode: 'B01', folio: '1', units: 115_000, transactions: 4 },
      { productCode: 'B02', folio: '7', units: 33_333, transactions: 1 },
    ]);
    expect(whole.snapshots[0].anomalies).to.deep.equal({
      missingKey: 1,
      nonNumericUnits: 1,
      badDate: 1,
      samples: ['ledger.ndjson:7', 'ledger.ndjson:8', 'ledger.ndjson:9'],
    });
    expect(whole.snapshots[0].ignoredTypes).to.deep.equal({ DIVIDEND: 1 });
    expect(whole.snapshots[1].positions.map((p) => p.units)).to.deep.equal([
      137_500, 33_333, -50_000,
    ]);
    // Lines 2, 4 and 13 share B01's latest timestamp before day 1 ends: the largest id text wins,
    // and without an _id that is the file and line ("ledger.ndjson:4" > ":2" > ":13").
    expect(whole.navs[0]).to.deep.equal({ 'B01/1': 120_000, 'B02/7': 410_000 });
    expect(whole.navs[1]).to.deep.equal({ 'B01/1': 130_000, 'B02/7': 410_000 });
    expect(whole.moves).to.deep.equal({
      'B01/1': { units: 22_500, ids: ['ledger.ndjson:11'] },
      'B04/5': { units: -50_000, ids: ['h'] },
    });
    expect(whole.names).to.deep.equal({ 'B01/1': 'One', 'B03/9': 'Nine' });

    for (const parts of [2, 3, 5, 14]) {
      const spans = ledgerRanges(path, parts);
      expect(spans.length, `${parts} parts`).to.be.greaterThan(1);
      const here = new NdjsonLedger(path, rules, {
        run: async (t) => readLedgerRange(t),
        parts,
      });
      expect(await everything(here), `${parts} ranges read here`).to.deep.equal(whole);
    }
    const inPool = new NdjsonLedger(path, rules, { run: (t) => pool.ledgerRange(t), parts: 3 });
    expect(await everything(inPool), 'three ranges read on the pool').to.deep.equal(whole);
  });

  it('reads a file that starts with a UTF-8 byte-order mark as the same file without it, and refuses one inside', async () => {
    const bom = join(dir, 'bom', 'ledger.ndjson');
    await mkdir(join(dir, 'bom'));
    await writeFile(bom, '\uFEFF' + LINES.join('\n') + '\n');
    const whole = await everything(new NdjsonLedger(path, rules));
    expect(await everything(new NdjsonLedger(bom, rules)), 'read whole').to.deep.equal(whole);
    const inPool = new NdjsonLedger(bom, rules, { run: (t) => pool.ledgerRange(t), parts: 3 });
    expect(await everything(inPool), 'three ranges on the pool').to.deep.equal(whole);
    // Movements from before the snapshots' earliest cut-off: a read of their own.
    const moves = async (file: string) => {
      const ledger = new NdjsonLedger(file, rules);
      await ledger.snapshots([day2]);
      return ledger.movements(day1.cutoff, day2.cutoff);
    };
    expect(await moves(bom)).to.deep.equal(await moves(path));

    const inside = join(dir, 'bom', 'inside.ndjson');
    await writeFile(inside, [LINES[0], '\uFEFF' + LINES[1]].join('\n'));
    const err = await new NdjsonLedger(inside, rules).snapshots([day1]).then(
      () => null,
      (e: unknown) => e as ReconError,
    );
    expect(err?.code).to.equal('RECON_LEDGER_READ');
    expect(err?.message).to.match(/^inside\.ndjson: line 2 is not extended JSON/);
  });

  it('reads every range from the file it opened, when an export renames another over its path meanwhile', async () => {
    const path2 = join(dir, 'renamed', 'ledger.ndjson');
    await mkdir(join(dir, 'renamed'));
    await writeFile(path2, LINES.join('\n') + '\n');
    // The replacement: every line as long as before (B0x products become C0x), so offsets fit it.
    const next = join(dir, 'renamed', 'next.ndjson');
    await writeFile(next, LINES.join('\n').replaceAll('B0', 'C0') + '\n');
    const expected = await everything(new NdjsonLedger(path, rules));
    let calls = 0;
    const ledger = new NdjsonLedger(path2, rules, {
      run: async (t) => {
        if (calls++ === 1) await rename(next, path2);
        return pool.ledgerRange(t);
      },
      parts: 3,
    });
    const got = await everything(ledger);
    await ledger.close();
    expect(calls).to.equal(3);
    expect(got).to.deep.equal(expected);
  });

  it('refuses, naming the file, a ledger written to in place while it was read', async () => {
    const sub = join(dir, 'in-place');
    await mkdir(sub);
    const cases = {
      appended: (p: string) => appendFile(p, LINES[0] + '\n'),
      'rewritten, same size': async (p: string) => {
        const before = await stat(p);
        await writeFile(p, LINES.join('\n').replaceAll('B0', 'C0') + '\n');
        // Whatever the file system's timestamp granularity, the write shows in the mtime.
        await utimes(p, before.atime, new Date(before.mtimeMs + 5_000));
      },
    };
    for (const [what, write] of Object.entries(cases)) {
      const file = join(sub, 'ledger.ndjson');
      await writeFile(file, LINES.join('\n') + '\n');
      let calls = 0;
      const ledger = new NdjsonLedger(file, rules, {
        run: async (t) => {
          if (calls++ === 1) await write(file);
          return pool.ledgerRange(t);
        },
        parts: 3,
      });
      const err = await ledger.snapshots([day1]).then(
        () => null,
        (e: unknown) => e as ReconError,
      );
      await ledger.close();
      expect(err?.code, what).to.equal('RECON_LEDGER_READ');
      expect(err?.message, what).to.match(/^ledger\.ndjson was written to while it was read/);
      expect(err?.context.file, what).to.equal('ledger.ndjson');
    }
  });

  it('cuts a file only after newlines, into ranges that cover it once', () => {
    for (const parts of [1, 2, 4, 100]) {
      const spans = ledgerRanges(path, parts);
      expect(spans[0].start).to.equal(0);
      for (let i = 1; i < spans.length; i++) expect(spans[i].start).to.equal(spans[i - 1].end);
      expect(spans.at(-1)!.end).to.equal(LINES.join('\n').length + 1);
    }
  });

  it("names the file's own line number when a line in a later range is not extended JSON", async () => {
    const bad = join(dir, 'bad.ndjson');
    const lines = [...LINES];
    lines[11] = '{"_id":"x","units":1,"transaction_type":"BUY",}';
    await writeFile(bad, lines.join('\n') + '\n');
    for (const parts of [1, 4]) {
      const ledger = new NdjsonLedger(bad, rules, { run: (t) => pool.ledgerRange(t), parts });
      const err = await ledger.snapshots([day1]).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, `${parts} parts`).to.be.instanceOf(ReconError);
      expect((err as ReconError).code).to.equal('RECON_LEDGER_READ');
      expect((err as ReconError).message).to.match(/^bad\.ndjson: line 12 is not extended JSON/);
      expect((err as ReconError).context.record).to.equal(12);
    }
  });

  it('refuses an unmapped transaction type met in any range, with its count over the whole file', async () => {
    const odd = join(dir, 'odd.ndjson');
    const lines = [...LINES, tx('y', 'B05', '"1"', 'SWITCH', '1', '2024-12-20T09:00:00Z')];
    lines.unshift(tx('z', 'B05', '"1"', 'switch ', '1', '2024-12-20T09:00:00Z'));
    await writeFile(odd, lines.join('\n'));
    const ledger = new NdjsonLedger(odd, rules, { run: (t) => pool.ledgerRange(t), parts: 3 });
    const err = await ledger.snapshots([day1]).then(
      () => null,
      (e: unknown) => e as ReconError,
    );
    expect(err?.code).to.equal('RECON_LEDGER_UNMAPPED_TYPE');
    expect(err?.context.types).to.deep.equal({ SWITCH: 2 });
  });

  it('counts one key however its parts are written, as the extended-JSON reader and the position rules do', async () => {
    const forms = [
      ['"B01"', '"7"'],
      ['"B01"', '7'],
      ['" B01 "', '"7\\t"'],
      ['"B\\u0030\\u0031"', '"\\u0037"'],
      ['"B01"', '{"$numberLong":"7"}'],
      ['"B01"', '7.0'],
      ['"B01"', '70e-1'],
      ['"Bé1"', '"7"'],
      ['"B01\u00a0"', '"7"'],
      ['"B é"', '"7"'],
      ['"Bé"', '"\\u00a07"'],
      ['"B01"', '"007"'],
      ['"B01"', '-7'],
      ['""', '"7"'],
      ['"B01"', '123456789012345678'],
      ['12', '"7"'],
      ['"B01\\ud800"', '"7"'],
      ['"B01\\ufffd"', '"7"'],
      ['"B01�"', '"7"'],
    ];
    const lines = forms.flatMap(([p, f], i) => [
      `{"_id":"r${i}","product_code":${p},"folio_no":${f},"units":${i + 1},"transaction_type":"${i % 3 ? 'BUY' : ' buy'}","transaction_date":{"$date":"2024-12-2${i % 5}T10:00:00Z"},"nav":${i + 10},"scheme_name":"S${i}"}`,
      `{"_id":"s${i}","product_code":${p},"folio_no":${f},"units":0.5,"transaction_type":"SELL","transaction_date":{"$date":"2024-12-2${i % 5}T10:00:00Z"},"nav":${i + 20}}`,
    ]);
    const file = join(dir, 'forms.ndjson');
    await writeFile(file, lines.join('\n'));
    // The reference: each line through bson's extended-JSON parser into the position rules.
    const builder = new PositionBuilder(day1, rules);
    const navs = new LatestNavs(null, day1.cutoff);
    for (const line of lines) {
      const tx = BSON.EJSON.parse(line, { relaxed: true }) as Record<string, unknown>;
      const [p, f] = [numberish(tx.product_code), numberish(tx.folio_no)];
      builder.add({
        productCode: p,
        folio: f,
        type: tx.transaction_type,
        units: Number(tx.units) * 10_000,
        count: 1,
      });
      navs.add(p, f, tx.transaction_date, tx.nav, String(tx._id));
    }
    const want = builder.finish();
    const positions = (m: Map<string, unknown>) => Object.fromEntries(m);
    const byKey = (ps: Positions) =>
      Object.fromEntries([...ps.values()].map((p) => [keyOf(p.productCode, p.folio), p]));
    for (const parts of [1, 3]) {
      const ledger = new NdjsonLedger(file, rules, { run: async (t) => readLedgerRange(t), parts });
      const [got] = await ledger.snapshots([day1]);
      expect(byKey(got.positions), `${parts} parts`).to.deep.equal(byKey(want.positions));
      expect(got.anomalies.missingKey).to.equal(want.anomalies.missingKey);
      const keys = [...want.positions.values()].map((p) => ({
        productCode: p.productCode,
        folio: p.folio,
      }));
      expect(positions(await ledger.latestNavs(day1.cutoff, keys))).to.deep.equal(
        positions(navs.result()),
      );
    }
    // Eight of the forms are B01/7 (a BUY and a SELL each); the rest are other keys or none.
    expect(byKey(want.positions)['B01\u00007']).to.deep.include({ transactions: 16 });
  });

  it('keeps no byte of a read buffer that the next read overwrites (types and field names met before)', async () => {
    // Types of the same length (BUY signed, SIP ignored, XXX unmapped-but-ignored) and fields in
    // changing orders, through a 160-byte read buffer refilled every line or two.
    const types = ['BUY', 'SIP', 'BUY', 'XXX', 'SELL', 'SIP'];
    const lines = Array.from({ length: 300 }, (_, i) => {
      const fields = [
        `"product_code":"B0${i % 3}"`,
        `"folio_no":"${100 + (i % 17)}"`,
        `"units":${(i % 7) + 1}`,
        `"transaction_type":"${types[i % types.length]}"`,
        `"transaction_date":{"$date":"2024-12-2${i % 4}T10:00:00Z"}`,
        `"nav":${(i % 11) + 1}`,
      ];
      if (i % 5 === 0) fields.reverse();
      return `{${fields.join(',')}}`;
    });
    const file = join(dir, 'refilled.ndjson');
    await writeFile(file, lines.join('\n'));
    const odd = { ...rules, ignoreTypes: ['SIP'], ignoreUnmappedTypes: true };
    const builder = new PositionBuilder(day1, odd);
    const navs = new LatestNavs(null, day1.cutoff);
    lines.forEach((line, i) => {
      const tx = BSON.EJSON.parse(line, { relaxed: true }) as Record<string, unknown>;
      builder.add({
        productCode: tx.product_code,
        folio: tx.folio_no,
        type: tx.transaction_type,
        units: Number(tx.units) * 10_000,
        count: 1,
      });
      navs.add(
        tx.product_code,
        tx.folio_no,
        tx.transaction_date,
        tx.nav,
        `refilled.ndjson:${i + 1}`,
      );
    });
    const want = builder.finish();
    const byKey = (ps: Positions) =>
      Object.fromEntries([...ps.values()].map((p) => [keyOf(p.productCode, p.folio), p]));
    const ledger = new NdjsonLedger(file, odd, {
      run: async (t) => readLedgerRange({ ...t, readBytes: 160 }),
      parts: 2,
    });
    const [got] = await ledger.snapshots([day1]);
    expect(byKey(got.positions)).to.deep.equal(byKey(want.positions));
    expect(got.ignoredTypes).to.deep.equal(want.ignoredTypes);
    const keys = [...want.positions.values()];
    expect(Object.fromEntries(await ledger.latestNavs(day1.cutoff, keys))).to.deep.equal(
      Object.fromEntries(navs.result()),
    );
  });

  it('matches member names by their bytes in this line, when the buffer holds another line where the last one was', async () => {
    // Lines of one length, read one a read: each lies where the one before lay. The type and date
    // members have names of one length and swap places from line to line.
    const type = '"transaction_type":"BUY"';
    const date = '"transaction_date":{"$date":"2024-12-20T10:00:00Z"}';
    const lines = Array.from({ length: 6 }, (_, i) => {
      const [first, second] = i % 2 === 0 ? [type, date] : [date, type];
      return `{${first},${second},"product_code":"B01","folio_no":"7","units":1}`;
    });
    const file = join(dir, 'swapped.ndjson');
    await writeFile(file, lines.join('\n') + '\n');
    const ledger = new NdjsonLedger(file, rules, {
      run: async (t) => readLedgerRange({ ...t, readBytes: lines[0].length + 1 }),
      parts: 1,
    });
    const [got] = await ledger.snapshots([day1]);
    expect([...got.positions.values()]).to.deep.equal([
      { productCode: 'B01', folio: '7', units: 60_000, transactions: 6 },
    ]);
    expect(got.anomalies.badDate).to.equal(0);
  });

  it('counts a key first counted long after it was first met (ignored types and later days before it)', async () => {
    // 1,500 keys met first in ignored or later transactions, then counted: the per-key sums of a
    // cut-off grow past their first size at a key number far beyond it.
    const lines: string[] = [];
    const line = (folio: number, type: string, date: string, nav?: number) =>
      `{"product_code":"B01","folio_no":"${folio}","units":1,"transaction_type":"${type}","transaction_date":{"$date":"${date}"}${nav === undefined ? '' : `,"nav":${nav}`}}`;
    for (let f = 0; f < 1500; f++)
      lines.push(
        line(
          f,
          f % 2 ? 'DIVIDEND' : 'BUY',
          f % 2 ? '2024-12-20T10:00:00Z' : '2024-12-25T10:00:00Z',
        ),
      );
    for (let f = 1499; f >= 0; f--)
      lines.push(line(f, 'BUY', '2024-12-21T10:00:00Z', 10 + (f % 7)));
    const file = join(dir, 'late.ndjson');
    await writeFile(file, lines.join('\n'));
    const want = new PositionBuilder(day1, rules);
    const navs = new LatestNavs(null, day1.cutoff);
    lines.forEach((l, i) => {
      const tx = BSON.EJSON.parse(l, { relaxed: true }) as Record<string, unknown>;
      if ((tx.transaction_date as Date).getTime() < day1.cutoff.getTime())
        want.add({
          productCode: tx.product_code,
          folio: tx.folio_no,
          type: tx.transaction_type,
          units: 10_000,
          count: 1,
        });
      navs.add(tx.product_code, tx.folio_no, tx.transaction_date, tx.nav, `late.ndjson:${i + 1}`);
    });
    const byKey = (ps: Positions) =>
      Object.fromEntries([...ps.values()].map((p) => [keyOf(p.productCode, p.folio), p]));
    const ledger = new NdjsonLedger(file, rules);
    const [got] = await ledger.snapshots([day1]);
    expect(got.positions.size).to.equal(1500);
    expect(byKey(got.positions)).to.deep.equal(byKey(want.finish().positions));
    const keys = [...got.positions.values()];
    expect(Object.fromEntries(await ledger.latestNavs(day1.cutoff, keys))).to.deep.equal(
      Object.fromEntries(navs.result()),
    );
  });

  it('agrees with the extended-JSON reader and the position rules on 5,000 random lines, read whole, in ranges and through small buffers', async () => {
    // A seeded generator: the same lines every run.
    let seed = 12345;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const types = ['"BUY"', '"SELL"', '" buy "', '"DIVIDEND"', '"SWITCH"', '7', 'null'];
    const folios = (f: number) =>
      [`"${f}"`, `${f}`, `" ${f}"`, `{"$numberLong":"${f}"}`, `"0${f}"`][rand(5)];
    const units = () =>
      [
        `${rand(100000) / 100}`,
        `{"$numberDecimal":"${rand(1000)}.${rand(10000)}"}`,
        '"12.5"',
        '"x"',
        'null',
      ][Math.min(rand(12), 4)];
    const lines: string[] = [];
    for (let i = 0; i < 5000; i++) {
      if (rand(50) === 0) {
        lines.push(rand(2) ? '' : '   ');
        continue;
      }
      const day = 19 + rand(9);
      const fields = [
        rand(3) ? `"_id":"t${rand(200)}"` : null,
        rand(40) ? `"product_code":"${['B01', 'B02', 'Bé3', 'C\\u00304'][rand(4)]}"` : null,
        `"folio_no":${folios(rand(400))}`,
        `"units":${units()}`,
        `"transaction_type":${types[rand(types.length)]}`,
        rand(30)
          ? `"transaction_date":{"$date":"2024-12-${day}T${String(rand(24)).padStart(2, '0')}:00:00Z"}`
          : '"transaction_date":"soon"',
        rand(4) ? `"nav":${[`${1 + rand(500) / 8}`, '0', '"7.25"', '-3'][rand(4)]}` : null,
        rand(3) ? `"scheme_name":"${[' Fund A ', 'Fund B', 'Fünd C'][rand(3)]}"` : null,
      ].filter((f): f is string => f !== null);
      if (rand(4) === 0) fields.reverse();
      lines.push(`{${fields.join(',')}}`);
    }
    const file = join(dir, 'random.ndjson');
    await writeFile(file, lines.join('\n') + '\n');
    const odd = { ...rules, ignoreTypes: ['DIVIDEND', '7'], ignoreUnmappedTypes: true };
    const days = [day1, day2];
    const builders = days.map((d) => new PositionBuilder(d, odd));
    const pickers = days.map((d) => new LatestNavs(null, d.cutoff));
    const moves = new MovementBuilder(odd);
    lines.forEach((l, i) => {
      if (l.trim() === '') return;
      const tx = BSON.EJSON.parse(l, { relaxed: true }) as Record<string, unknown>;
      const id = tx._id === undefined ? `random.ndjson:${i + 1}` : String(tx._id);
      const [p, f] = [numberish(tx.product_code), numberish(tx.folio_no)];
      const when = tx.transaction_date;
      const u = numberish(tx.units);
      const value = unitsFromValue(u);
      days.forEach((d, c) => {
        if (!(when instanceof Date)) return builders[c].badDates(1, `random.ndjson:${i + 1}`);
        if (when.getTime() >= d.cutoff.getTime()) return;
        builders[c].add({
          productCode: p,
          folio: f,
          type: tx.transaction_type,
          units: value,
          count: 1,
          sample: `random.ndjson:${i + 1}`,
        });
        pickers[c].add(p, f, when, numberish(tx.nav), id);
      });
      if (when instanceof Date && when >= day1.cutoff && when < day2.cutoff)
        moves.add(p, f, tx.transaction_type, value, id);
    });
    const want = builders.map((b) => b.finish());
    const byKey = (ps: Positions) =>
      Object.fromEntries([...ps.values()].map((p) => [keyOf(p.productCode, p.folio), p]));
    const plain = <V>(m: Map<string, V>) => Object.fromEntries(m);
    for (const [parts, readBytes] of [
      [1, undefined],
      [3, undefined],
      [4, 700],
    ] as const) {
      const ledger = new NdjsonLedger(file, odd, {
        run: async (t) => readLedgerRange({ ...t, readBytes }),
        parts,
      });
      const got = await ledger.snapshots(days);
      const label = `${parts} part(s), ${readBytes ?? 'default'} bytes a read`;
      for (const c of [0, 1]) {
        expect(byKey(got[c].positions), label).to.deep.equal(byKey(want[c].positions));
        expect(got[c].anomalies, label).to.deep.equal(want[c].anomalies);
        expect(got[c].ignoredTypes, label).to.deep.equal(want[c].ignoredTypes);
        expect(got[c].transactions, label).to.equal(want[c].transactions);
        const keys = [...want[c].positions.values()];
        const wanted = new Set(keys.map((k) => keyOf(k.productCode, k.folio)));
        expect(plain(await ledger.latestNavs(days[c].cutoff, keys)), label).to.deep.equal(
          plain(pickers[c].result(wanted)),
        );
      }
      expect(plain(await ledger.movements(day1.cutoff, day2.cutoff)), label).to.deep.equal(
        plain(moves.movements),
      );
    }
    // The lines are not degenerate: hundreds of positions, and every kind of anomaly.
    expect(want[1].positions.size).to.be.greaterThan(300);
    expect(want[0].anomalies.badDate).to.be.greaterThan(0);
    expect(want[0].anomalies.missingKey).to.be.greaterThan(0);
    expect(want[0].anomalies.nonNumericUnits).to.be.greaterThan(0);
  });
});
