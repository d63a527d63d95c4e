import { expect } from 'chai';
import { textTable } from '../../core/text-table.js';

describe('the text table', () => {
  it('pads each column to its widest cell, two spaces apart, without trailing space; null is empty', () => {
    expect(
      textTable([
        ['run', 'status', 'error'],
        ['r-1', 'committed', null],
        ['r-22', 'failed', 'RECON_DBF_DATE'],
      ]),
    ).to.deep.equal([
      'run   status     error',
      'r-1   committed',
      'r-22  failed     RECON_DBF_DATE',
    ]);
  });

  it('right-aligns the columns from the one given, header included', () => {
    expect(
      textTable(
        [
          ['source', 'as-of', 'rows', 'matched'],
          ['CAMS', '2024-12-24', 12, 9],
          ['total', '', 1234, 10],
        ],
        2,
      ),
    ).to.deep.equal([
      'source  as-of       rows  matched',
      'CAMS    2024-12-24    12        9',
      'total               1234       10',
    ]);
  });
});
