import { expect } from 'chai';
import { Collection } from 'mongodb';
import sinon from 'sinon';
import { MongoLedger } from '../../core/ledger/mongodb.js';
import { closeTestClient, testDb, testMongoUri, uniqueDbName } from '../support/database.js';
import { LEDGER_RULES } from '../support/config.js';

const rules = LEDGER_RULES;

describe('MongoDB ledger: scheme names of mongo_only rows', function () {
  this.timeout(60_000);
  after(closeTestClient);
  const cutoff = { asOf: '2024-12-24', cutoff: new Date('2024-12-24T18:30:00Z') };
  const on = new Date('2024-12-20T09:12:00Z');

  for (const aggregation of ['server', 'client'] as const) {
    it(`takes them from what the snapshot read (aggregation: ${aggregation}), with no query of its own`, async () => {
      const database = uniqueDbName('schemes');
      const db = await testDb(database);
      const col = db.collection('wealth_pulse_transactions');
      await col.insertMany([
        {
          product_code: 'B01',
          folio_no: '1',
          scheme_name: 'Zeta Fund',
          units: 10,
          transaction_type: 'BUY',
          transaction_date: on,
        },
        {
          product_code: 'B01',
          folio_no: '1',
          scheme_name: ' Alpha Fund ',
          units: 2,
          transaction_type: 'SELL',
          transaction_date: on,
        },
        {
          product_code: 'B01',
          folio_no: 2,
          scheme_name: 'Numeric Folio Fund',
          units: '7.5',
          transaction_type: 'BUY',
          transaction_date: on,
        },
        {
          product_code: 'B02',
          folio_no: '3',
          scheme_name: '   ',
          units: 1,
          transaction_type: 'BUY',
          transaction_date: on,
        },
        {
          product_code: 'B02',
          folio_no: '4',
          units: 1,
          transaction_type: 'BUY',
          transaction_date: on,
        },
      ]);
      try {
        const ledger = new MongoLedger({
          uri: testMongoUri(),
          database,
          collection: 'wealth_pulse_transactions',
          rules,
          aggregation,
        });
        const [snap] = await ledger.snapshots([cutoff]);
        expect(snap.positions.size).to.equal(4);
        // Gone before the names are asked for: a query per batch of breaks would now find nothing.
        await col.drop();
        const keys = [
          { productCode: 'B01', folio: '1' },
          { productCode: 'B01', folio: '2' },
          { productCode: 'B02', folio: '3' },
          { productCode: 'B02', folio: '4' },
        ];
        const names = await ledger.schemeNames(keys);
        expect(
          Object.fromEntries([...names].map(([k, v]) => [k.replace('\u0000', '/'), v])),
        ).to.deep.equal({ 'B01/1': 'Alpha Fund', 'B01/2': 'Numeric Folio Fund' });
      } finally {
        await db.dropDatabase();
      }
    });
  }
});

describe("MongoDB ledger: next-day movements and NAVs from the snapshots' one read", function () {
  this.timeout(60_000);
  const day1 = { asOf: '2024-12-23', cutoff: new Date('2024-12-23T18:30:00Z') };
  const day2 = { asOf: '2024-12-24', cutoff: new Date('2024-12-24T18:30:00Z') };
  const at = (iso: string) => new Date(iso);
  const tx = (
    id: string,
    product: string,
    folio: string | number,
    type: string,
    units: unknown,
    when: string,
    nav?: unknown,
  ) => ({
    _id: id,
    product_code: product,
    folio_no: folio,
    transaction_type: type,
    units,
    transaction_date: at(when),
    ...(nav === undefined ? {} : { nav }),
  });
  const docs = [
    tx('a1', 'B01', '1', 'BUY', 10, '2024-12-20T09:00:00Z', 12.5),
    tx('a2', 'B01', '1', 'BUY', 1, '2024-12-22T09:00:00Z', 13.25),
    tx('a3', 'B01', '1', 'SELL', 2, '2024-12-24T09:00:00Z', 0), // no usable NAV
    tx('a4', 'B01', '1', 'BUY', 3, '2024-12-25T09:00:00Z', 99), // day 2's next day
    tx('b1', 'B02', 7, 'BUY', '4.5', '2024-12-23T20:00:00Z', '20.0001'), // day 1's next day
    tx('b2', 'B02', 7, 'SELL', 1, '2024-12-24T19:00:00Z'), // day 2's next day, no NAV
    tx('b3', 'B02', 7, 'BUY', 1, '2024-12-29T09:00:00Z', 30), // after both windows
    tx('c1', 'B03', '9', 'BUY', 5, '2024-12-21T10:00:00Z', 8),
    tx('c2', 'B03', '9', 'BUY', 5, '2024-12-21T10:00:00Z', 9), // same time: larger id wins
  ];
  const keys = [
    { productCode: 'B01', folio: '1' },
    { productCode: 'B02', folio: '7' },
    { productCode: 'B03', folio: '9' },
  ];
  const plain = (m: Map<string, unknown>) =>
    Object.fromEntries([...m].map(([k, v]) => [k.replace('\u0000', '/'), v]));
  const nextDay = (c: { cutoff: Date }) => new Date(c.cutoff.getTime() + 24 * 3600_000);

  for (const aggregation of ['server', 'client'] as const) {
    it(`gives what queries of their own give, after the collection is gone (aggregation: ${aggregation})`, async () => {
      const database = uniqueDbName('later');
      const db = await testDb(database);
      const col = db.collection<{ _id: string }>('wealth_pulse_transactions');
      await col.insertMany(docs);
      const options = { uri: testMongoUri(), database, collection: col.collectionName, rules };
      try {
        // What a ledger that read nothing before finds by querying.
        const fresh = new MongoLedger(options);
        const expected = [];
        for (const c of [day1, day2])
          expected.push({
            moves: plain(await fresh.movements(c.cutoff, nextDay(c))),
            navs: plain(await fresh.latestNavs(c.cutoff, keys)),
          });
        expect(expected[0].moves).to.deep.equal({
          'B01/1': { units: -20_000, ids: ['a3'] },
          'B02/7': { units: 45_000, ids: ['b1'] },
        });
        expect(expected[1].moves).to.deep.equal({
          'B01/1': { units: 30_000, ids: ['a4'] },
          'B02/7': { units: -10_000, ids: ['b2'] },
        });
        expect(expected[0].navs).to.deep.equal({ 'B01/1': 132_500, 'B03/9': 90_000 });
        expect(expected[1].navs).to.deep.equal({
          'B01/1': 132_500,
          'B02/7': 200_001,
          'B03/9': 90_000,
        });

        const ledger = new MongoLedger({ ...options, aggregation });
        const snaps = await ledger.snapshots([day1, day2]);
        expect(snaps.map((s) => s.transactions)).to.deep.equal([4, 6]);
        await col.drop();
        for (const [i, c] of [day1, day2].entries()) {
          expect(plain(await ledger.movements(c.cutoff, nextDay(c)))).to.deep.equal(
            expected[i].moves,
          );
          // The server aggregation keeps no NAVs: only the stream answers without a query.
          if (aggregation === 'client')
            expect(plain(await ledger.latestNavs(c.cutoff, keys))).to.deep.equal(expected[i].navs);
        }
      } finally {
        await db.dropDatabase();
      }
    });
  }

  it('looks up the NAVs of more keys than one $or used to carry in one query, as the stream finds them', async () => {
    const database = uniqueDbName('navs');
    const db = await testDb(database);
    const col = db.collection('wealth_pulse_transactions');
    const cutoff = new Date('2024-12-24T18:30:00Z');
    // 1,200 keys over three products, folios as text and as numbers; a NAV on most transactions.
    const docs = [];
    for (let k = 0; k < 1200; k++) {
      const product = `P0${k % 3}`;
      const folio = k % 4 === 0 ? 5000 + k : String(5000 + k);
      for (let t = 0; t < 3; t++)
        docs.push({
          product_code: product,
          folio_no: folio,
          units: 1,
          transaction_type: 'BUY',
          transaction_date: new Date(Date.UTC(2024, 11, 20 + t * 2, 9)),
          ...(t === 2 && k % 5 === 0 ? {} : { nav: 10 + ((k * 7 + t) % 90) / 4 }),
        });
    }
    await col.insertMany(docs);
    const options = { uri: testMongoUri(), database, collection: col.collectionName, rules };
    const keys = Array.from({ length: 1200 }, (_, k) => ({
      productCode: `P0${k % 3}`,
      folio: String(5000 + k),
    }));
    try {
      const stream = new MongoLedger({ ...options, aggregation: 'client' });
      await stream.snapshots([{ asOf: '2024-12-24', cutoff }]);
      const expected = await stream.latestNavs(cutoff, keys);
      expect(expected.size).to.equal(1200);
      // The real server answers; the spy only counts the queries the lookup sends.
      const find = sinon.spy(Collection.prototype, 'find');
      try {
        const looked = await new MongoLedger({ ...options, aggregation: 'server' }).latestNavs(
          cutoff,
          keys,
        );
        expect(Object.fromEntries(looked)).to.deep.equal(Object.fromEntries(expected));
      } finally {
        find.restore();
      }
      const finds = find
        .getCalls()
        .filter((c) => c.thisValue.collectionName === col.collectionName);
      expect(finds).to.have.length(1);
    } finally {
      await db.dropDatabase();
    }
  });
});
