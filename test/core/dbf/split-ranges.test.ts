import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveColumns } from '../../../core/dbf/columns.js';
import { readDbfLayout } from '../../../core/dbf/layout.js';
import { rangeTask } from '../../../core/dbf/decoder.js';
import { mergePartitions, splitRanges } from '../../../core/run/decode.js';
import { KeySpace } from '../../../core/keys/key-space.js';
import { resolvePluginSpecifier } from '../../../core/plugin.js';
import { ReconPool } from '../../../core/pool.js';
import { generateFile, proveWithDbffile, rowAt } from '../../../fixtures/generate.js';
import { assembleReference, type ReferenceTable } from '../../support/reference.js';

describe('split decoding across workers', function () {
  this.timeout(60_000);
  let dir: string;
  let pool: ReconPool;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'recon-split-'));
    pool = new ReconPool(2);
  });
  after(async () => {
    await pool.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function decode(
    file: string,
    ranges: [number, number][],
    partitions = 1,
  ): Promise<ReferenceTable> {
    const layout = await readDbfLayout(file);
    const specifier = resolvePluginSpecifier('karvy', dir);
    const { default: karvy } = (await import(specifier)) as {
      default: Parameters<typeof resolveColumns>[1];
    };
    const columns = resolveColumns(layout, karvy);
    const parts = await Promise.all(
      ranges.map(([start, end]) =>
        pool.decode({
          ...rangeTask(file, layout, columns, { start, end, partitions }),
          pluginSpecifier: specifier,
        }),
      ),
    );
    return assembleReference(
      parts.map((p) => p.rows),
      new KeySpace(),
      null,
      0,
      (task) => pool.merge(task),
    );
  }

  it('gives results identical key by key to one range when keys straddle every range boundary', async () => {
    const rows = 10_000;
    const gen = generateFile(join(dir, 'karvy.dbf'), 'karvy', rows);
    await proveWithDbffile(gen, 500);
    // Rows 20k+18 and 20k+19 share a key; cut between them everywhere.
    const straddling: [number, number][] = [];
    for (let start = 0; start < rows; start = Math.min(rows, start === 0 ? 19 : start + 20))
      straddling.push([start, Math.min(rows, start === 0 ? 19 : start + 20)]);
    expect(straddling.length).to.be.greaterThan(400);
    const one = await decode(gen.path, [[0, rows]]);
    const split = await decode(gen.path, straddling, 7);
    const engine = await decode(
      gen.path,
      splitRanges(rows, 2, 1_000),
      mergePartitions(rows * 100, 2),
    );
    expect(one.size).to.equal(gen.keys);
    for (const t of [split, engine]) {
      expect(t.size).to.equal(one.size);
      for (const h of one) {
        const o = t.get(h.key);
        expect([o?.units, o?.rows, o?.schemeName], h.key).to.deep.equal([
          h.units,
          h.rows,
          h.schemeName,
        ]);
      }
    }
    const r = rowAt('karvy', 0, 18);
    const straddler = one.get(`${r.product}\u0000${r.folio}`);
    expect(straddler?.rows).to.equal(2);
    let total = 0;
    for (const h of one) total += h.units;
    expect(total).to.equal(gen.totalUnits);
  });
});
