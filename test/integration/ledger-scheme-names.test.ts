import { expect } from 'chai';
import { MongoLedger } from '../../core/ledger/mongodb.js';
import { closeTestClient, testDb, testMongoUri, uniqueDbName } from '../support/database.js';
import { LEDGER_RULES } from '../support/config.js';

describe('MongoDB ledger: scheme names of mongo_only rows', function () {
  this.timeout(60_000);
  const rules = LEDGER_RULES;
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
