import { expect } from 'chai';
import { join } from 'node:path';
import type { LoadedConfig } from '../../config/load.js';
import { createReader } from '../../core/store/reader.js';
import type { ResultDocument } from '../../core/store/documents.js';
import { patchField, writeCamsFile } from '../../fixtures/registrar-files.js';
import { runOnce } from '../support/run.js';
import { transactions } from '../../fixtures/transactions.js';
import { CAMS_SOURCE } from '../support/config.js';
import { useDay } from '../support/day.js';

/**
 * Ledger of the 24-12-2024 day: B01/1 mismatched, B01/3 mismatched (file NAV unreadable), B01/8 and
 * B01/9 mongo_only.
 */
const tx = transactions();
const LEDGER = [
  tx('B01', '1', 'BUY', 10.5, '2024-12-20T09:00:00Z', { nav: 99 }),
  tx('B01', '3', 'BUY', 3, '2024-12-20T09:00:00Z', { nav: 11 }),
  tx('B01', '3', 'BUY', 0, '2024-12-23T09:00:00Z', { nav: '12.3456' }),
  tx('B01', '9', 'BUY', 7, '2024-12-21T09:00:00Z', { nav: 20 }),
  // After the end of 24-12 in Asia/Kolkata: neither its units nor its NAV count.
  tx('B01', '9', 'BUY', 1, '2024-12-24T18:30:00Z', { nav: 22.5 }),
  tx('B01', '8', 'BUY', 2, '2024-12-21T09:00:00Z'),
];

for (const kind of [
  'offline (ndjson ledger, files store)',
  'FerretDB (mongodb ledger and store)',
] as const) {
  describe(`break value and materiality: ${kind}`, function () {
    this.timeout(60_000);
    const world = useDay('value', { offline: kind.startsWith('offline'), transactions: LEDGER });
    let loaded: LoadedConfig;

    before(async () => {
      await writeCamsFile(join(world.dir, 'incoming', 'cams.dbf'), [
        { product: 'B01', folio: '1', units: 10, asOf: '24-12-2024' },
        { product: 'B01', folio: '2', units: 4, asOf: '24-12-2024' },
        { product: 'B01', folio: '3', units: 1, asOf: '24-12-2024' },
      ]);
      await patchField(join(world.dir, 'incoming', 'cams.dbf'), 2, 'NAV', 'n/a');
      const sources = `sources:\n${CAMS_SOURCE}\n`;
      const reconcile = 'reconcile: { tolerance: 0.001, materiality: 60 }\n';
      loaded = await world.config(`${world.stores(', aggregation: client')}${reconcile}${sources}`);
    });

    it('values each break from the file NAV, else the ledger NAV up to the cut-off, else none; totals exact; materiality apart', async () => {
      const run = await runOnce(loaded);
      expect(run.status, JSON.stringify(run.error)).to.equal('committed');
      expect(run.sources.CAMS.navMissing, 'the unreadable NAV is counted').to.equal(1);
      expect(
        run.sources.CAMS.files[0].evidence.samples.map((e) => [e.record, e.field]),
      ).to.deep.equal([[3, 'NAV']]);
      const rows: ResultDocument[] = [];
      for await (const r of createReader(loaded.config, loaded.baseDir).breakRows(run.runId))
        rows.push(r);
      const pick = (r: ResultDocument) => [
        r.folio_no,
        r.status,
        r.difference,
        r.nav,
        r.nav_source,
        r.value,
        r.immaterial,
      ];
      expect(rows.map(pick).sort()).to.deep.equal(
        [
          // 0.5 × 101.25 (file) = 50.625 → ₹50.63, below the ₹60 materiality.
          ['1', 'mismatched', 0.5, 101.25, 'file', 50.63, true],
          // dbf_only: -4 × 101.25 (file).
          ['2', 'dbf_only', -4, 101.25, 'file', -405, false],
          // File NAV unreadable: the ledger's latest NAV before the cut-off, 12.3456 × 2 = 24.6912
          // → ₹24.69.
          ['3', 'mismatched', 2, 12.3456, 'ledger', 24.69, true],
          // No NAV anywhere: no value, and not immaterial (unknown is not small).
          ['8', 'mongo_only', 2, null, null, null, false],
          // mongo_only: the NAV of 24-12 18:30Z is after the cut-off; 7 × 20.
          ['9', 'mongo_only', 7, 20, 'ledger', 140, false],
        ].sort(),
      );
      expect(run.immaterial).to.equal(2);
      expect(
        run.values?.map((g) => [
          g.status,
          g.breaks,
          g.unvalued,
          g.immaterial,
          g.grossPaise,
          g.netPaise,
        ]),
      ).to.deep.equal([
        ['dbf_only', 1, 0, 0, 40_500n, -40_500n],
        ['mongo_only', 2, 1, 0, 14_000n, 14_000n],
        ['mismatched', 2, 0, 2, 7_532n, 7_532n],
      ]);
      const stored = await createReader(loaded.config, loaded.baseDir).committedRun({
        runId: run.runId,
      });
      expect(stored?.values.find((g) => g.status === 'mismatched')).to.include({
        gross_paise: 7_532,
        immaterial: 2,
      });
      expect((stored?.sources.CAMS as { nav_missing: number }).nav_missing).to.equal(1);
    });
  });
}
