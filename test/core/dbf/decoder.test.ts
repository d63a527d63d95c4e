import { expect } from 'chai';
import { join } from 'node:path';
import { DBFFile, DELETED } from 'dbffile';
import { resolveColumns } from '../../../core/dbf/columns.js';
import { readDbfLayout } from '../../../core/dbf/layout.js';
import { decodeRange } from '../../../core/dbf/decoder.js';
import { unitsFromDouble } from '../../../core/fixed-point.js';
import { keyOf } from '../../../core/keys/text-key.js';
import { KeySpace } from '../../../core/keys/key-space.js';
import cams from '../../../sources/cams/index.js';
import karvy from '../../../sources/karvy/index.js';
import type { SourcePlugin } from '../../../core/plugin.js';
import {
  writeCamsFile,
  writeKarvyFile,
  type CamsRow,
  type KarvyRow,
} from '../../../fixtures/registrar-files.js';
import { withTempDir } from '../../support/day.js';
import { rangeTasks } from '../../support/decode.js';
import { assembleTableSync, type ReferenceTable } from '../../support/reference.js';

/** A small deterministic generator (mulberry32), so failures reproduce. */
function rng(seed: number): () => number {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function decodeWhole(
  file: string,
  plugin: SourcePlugin,
  parts: number,
): Promise<{ holdings: ReferenceTable; deleted: number; asOf: string | null }> {
  const layout = await readDbfLayout(file);
  const columns = resolveColumns(layout, plugin);
  const size = Math.ceil(layout.recordCount / parts);
  // Rows cut into as many merge partitions as ranges, so the partitioned path is the one tested.
  const aggs = rangeTasks(file, layout, columns, size, { chunkBytes: 4096, partitions: parts }).map(
    (task) => decodeRange(task, plugin),
  );
  const holdings = assembleTableSync(aggs, new KeySpace());
  return {
    holdings,
    deleted: aggs.reduce((n, a) => n + a.deleted, 0),
    asOf: aggs.find((a) => a.asOf !== null)?.asOf ?? null,
  };
}

/** What dbffile itself decodes, aggregated the same way. */
async function viaDbffile(
  file: string,
  product: string,
  folio: string,
  units: string,
): Promise<{ sums: Map<string, { units: number; rows: number }>; deleted: number }> {
  const dbf = await DBFFile.open(file, { includeDeletedRecords: true });
  const sums = new Map<string, { units: number; rows: number }>();
  let deleted = 0;
  for await (const rec of dbf) {
    if (rec[DELETED] === true) {
      deleted++;
      continue;
    }
    const key = keyOf(String(rec[product]).trim(), String(rec[folio]).trim());
    const u = unitsFromDouble(rec[units] as number)!;
    const cur = sums.get(key) ?? { units: 0, rows: 0 };
    sums.set(key, { units: cur.units + u, rows: cur.rows + 1 });
  }
  return { sums, deleted };
}

describe('decoder', () => {
  let dir: string;
  withTempDir('proj', (d) => (dir = d));

  for (const parts of [1, 3, 7]) {
    it(`agrees with dbffile on a generated CAMS file, key by key, decoded in ${parts} range(s)`, async () => {
      const rand = rng(42 + parts);
      const rows: CamsRow[] = [];
      for (let i = 0; i < 900; i++) {
        rows.push({
          product: `P${Math.floor(rand() * 12)}`,
          folio: String(1000 + Math.floor(rand() * 150)),
          units: Math.round(rand() * 200_000 - 20_000) / 1000,
          asOf: '24-Dec-2024',
          deleted: rand() < 0.07,
        });
      }
      const file = join(dir, `cams-${parts}.dbf`);
      await writeCamsFile(file, rows);
      const ours = await decodeWhole(file, cams, parts);
      const theirs = await viaDbffile(file, 'PRODUCT', 'FOLIO', 'UNITS');
      expect(ours.asOf).to.equal('2024-12-24');
      expect(ours.deleted).to.equal(rows.filter((r) => r.deleted).length);
      expect(ours.deleted).to.equal(theirs.deleted);
      expect(ours.holdings.size).to.equal(theirs.sums.size);
      for (const [key, s] of theirs.sums) {
        const h = ours.holdings.get(key);
        expect(h, key).to.not.equal(undefined);
        expect([h!.units, h!.rows], key).to.deep.equal([s.units, s.rows]);
      }
    });
  }

  it('agrees with dbffile on a generated KARVY file with numeric ACNO folios', async () => {
    const rand = rng(7);
    const rows: KarvyRow[] = [];
    for (let i = 0; i < 600; i++) {
      rows.push({
        prcode: `K${Math.floor(rand() * 9)}`,
        acno: 1014433000 + Math.floor(rand() * 90),
        units: Math.round(rand() * 5_000_000) / 10_000,
        asOf: '24/12/2024',
        deleted: rand() < 0.05,
      });
    }
    const file = join(dir, 'karvy.dbf');
    await writeKarvyFile(file, rows);
    const ours = await decodeWhole(file, karvy, 4);
    const theirs = await viaDbffile(file, 'PRCODE', 'ACNO', 'BALUNITS');
    expect(ours.holdings.size).to.equal(theirs.sums.size);
    for (const [key, s] of theirs.sums)
      expect([ours.holdings.get(key)?.units, ours.holdings.get(key)?.rows], key).to.deep.equal([
        s.units,
        s.rows,
      ]);
    for (const h of ours.holdings) expect(h.folio).to.match(/^\d+$/);
  });
});
