import { expect } from 'chai';
import { join } from 'node:path';
import { resolveColumns } from '../../core/dbf/columns.js';
import { readDbfLayout } from '../../core/dbf/layout.js';
import { decodeRange } from '../../core/dbf/decoder.js';
import { KeySpace } from '../../core/keys/key-space.js';
import { keyOf } from '../../core/keys/text-key.js';
import { indexPositions } from '../../core/position-index.js';
import type { LedgerPosition } from '../../core/reconcile.js';
import cams from '../../sources/cams/index.js';
import { writeCamsFile, type CamsRow } from '../../fixtures/registrar-files.js';
import { withTempDir } from '../support/day.js';
import { rangeTask, rangeTasks } from '../support/decode.js';
import { assembleTableSync, judgeHolding } from '../support/reference.js';

/** The fields explaining a break sets: a table's row has them, unset. */
const unexplained = Object.fromEntries(
  ['reason', 'navSource', 'valuePaise', 'immaterial', 'lifecycle', 'firstSeen', 'ageDays'].map(
    (field) => [field, undefined],
  ),
);

describe('partitioned merge and judging', () => {
  let dir: string;
  withTempDir('merge', (d) => (dir = d));

  it('judges every key as a lookup in the ledger by string key does, for numeric and text folios alike, and lists the breaks in order', async () => {
    // Folios of every kind: plain numbers, leading zeros (text), letters, long digit strings.
    const folios = ['101', '0101', 'F7', '1234567890123456', '7', '007', '12345678/12'];
    const rows: CamsRow[] = [];
    for (let i = 0; i < 700; i++) {
      rows.push({
        product: `p${i % 5}`,
        folio: folios[i % folios.length] + (i % 11 === 0 ? '' : String(i % 13)),
        units: (i % 17) + 0.125,
        asOf: '24-Dec-2024',
        deleted: i % 29 === 0,
      });
    }
    const file = join(dir, 'cams.dbf');
    await writeCamsFile(file, rows);
    const layout = await readDbfLayout(file);
    const columns = resolveColumns(layout, cams);
    const tolerance = 10;
    // The ledger: some keys equal, some off within and beyond tolerance, some absent, one extra.
    const reference = assembleTableSync(
      [decodeRange(rangeTask(file, layout, columns), cams)],
      new KeySpace(),
    );
    const positions = new Map<string, LedgerPosition>();
    let n = 0;
    for (const h of reference) {
      n++;
      if (n % 4 === 0) continue;
      positions.set(h.key, {
        productCode: h.productCode,
        folio: h.folio,
        units: h.units + (n % 4 === 1 ? 0 : n % 4 === 2 ? 10 : 11),
        transactions: 1,
      });
    }
    positions.set(keyOf('P0', '999'), {
      productCode: 'P0',
      folio: '999',
      units: 5,
      transactions: 1,
    });

    for (const partitions of [1, 3, 8]) {
      const space = new KeySpace();
      const index = indexPositions(positions, space, partitions);
      const parts = rangeTasks(file, layout, columns, 97, { partitions }).map((task) =>
        decodeRange(task, cams),
      );
      const table = assembleTableSync(parts, space, index, tolerance);
      expect(table.size).to.equal(reference.size);
      const src = { source: 'CAMS', asOf: '2024-12-24', decimals: 3 };
      const seen = { matched: 0, mismatched: 0, dbf_only: 0, mongo_only: 0 };
      const breaks: number[] = [];
      for (let i = 0; i < table.size; i++) {
        const h = table.holdingAt(i);
        const expected = judgeHolding(src, h, positions, tolerance);
        expect(
          table.rowAt(src, i),
          `${h.productCode}/${h.folio} in ${partitions} partition(s)`,
        ).to.deep.equal({ ...expected, ...unexplained });
        expect(table.statusAt(i)).to.equal(expected.status);
        expect(table.find(h.productCode, h.folio)).to.equal(i);
        expect([h.units, h.rows]).to.deep.equal([
          reference.get(h.key)!.units,
          reference.get(h.key)!.rows,
        ]);
        seen[expected.status]++;
        if (expected.status !== 'matched') breaks.push(i);
      }
      expect([...table.breakPositions()], `${partitions} partition(s)`).to.deep.equal(breaks);
      expect(table.statusCounts()).to.deep.equal(seen);
      expect(seen.matched).to.be.greaterThan(0);
      expect(seen.mismatched).to.be.greaterThan(0);
      expect(seen.dbf_only).to.be.greaterThan(0);
      expect(table.has('P0', '999')).to.equal(false);
      expect(table.has('P0', '0101')).to.equal(true);
    }
  });
});
