import { expect } from 'chai';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NdjsonLedger } from '../../../core/ledger/ndjson.js';
import { LEDGER_RULES } from '../../support/config.js';

describe("ndjson ledger: next-day movements from the snapshots' one read", () => {
  const rules = LEDGER_RULES;
  const day1 = { asOf: '2024-12-24', cutoff: new Date('2024-12-24T18:30:00Z') };
  const day2 = { asOf: '2024-12-25', cutoff: new Date('2024-12-25T18:30:00Z') };
  let dir: string;
  let path: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ndjson-ledger-'));
    path = join(dir, 'ledger.ndjson');
    const tx = (id: string | null, folio: string, type: string, units: string, date: string) =>
      `{${id === null ? '' : `"_id":"${id}",`}"product_code":"B01","folio_no":"${folio}","units":${units},"transaction_type":"${type}","transaction_date":{"$date":"${date}"}}`;
    await writeFile(
      path,
      [
        tx('a', '1', 'BUY', '10', '2024-12-20T09:00:00Z'),
        tx('b', '1', 'BUY', '2.5', '2024-12-24T18:30:00Z'), // the first instant of the next day in Asia/Kolkata
        tx(null, '1', 'SELL', '{"$numberDecimal":"1.25"}', '2024-12-25T10:00:00Z'),
        tx('d', '2', 'BUY', '3', '2024-12-25T18:29:59.999Z'),
        tx('e', '2', 'BUY', '4', '2024-12-25T18:30:00Z'),
        tx('f', '3', 'DIVIDEND', '1', '2024-12-25T01:00:00Z'),
        tx('g', '3', 'BUY', '"abc"', '2024-12-25T01:00:00Z'),
        tx('h', '4', 'BUY', '5', '2024-12-26T01:00:00Z'),
      ].join('\n') + '\n',
    );
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  const plain = (m: Map<string, { units: number; ids: string[] }>) =>
    Object.fromEntries([...m].map(([k, v]) => [k.replace('\u0000', '/'), v]));

  it("gives, without reading the file again, the movements a separate read gives for each cut-off's next day", async () => {
    const windows = [
      [day1.cutoff, day2.cutoff],
      [day2.cutoff, new Date('2024-12-26T18:30:00Z')],
    ];
    const fresh = await Promise.all(
      windows.map(async ([from, to]) =>
        plain(await new NdjsonLedger(path, rules).movements(from, to)),
      ),
    );
    const ledger = new NdjsonLedger(path, { ...rules, ignoreTypes: ['DIVIDEND'] });
    await ledger.snapshots([day1, day2]);
    const moved = `${path}.moved`;
    await rename(path, moved);
    try {
      for (const [i, [from, to]] of windows.entries())
        expect(plain(await ledger.movements(from, to))).to.deep.equal(fresh[i]);
    } finally {
      await rename(moved, path);
    }
    expect(fresh[0]).to.deep.equal({
      'B01/1': { units: 12_500, ids: ['b', 'ledger.ndjson:3'] },
      'B01/2': { units: 30_000, ids: ['d'] },
    });
  });

  it('reads the file again for a window before the earliest cut-off', async () => {
    const ledger = new NdjsonLedger(path, { ...rules, ignoreTypes: ['DIVIDEND'] });
    await ledger.snapshots([day2]);
    expect(plain(await ledger.movements(day1.cutoff, day2.cutoff))).to.deep.equal({
      'B01/1': { units: 12_500, ids: ['b', 'ledger.ndjson:3'] },
      'B01/2': { units: 30_000, ids: ['d'] },
    });
  });
});
