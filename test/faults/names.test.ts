/** Staged names: pure checks behind the archive and delivery fault cases. */
import { expect } from 'chai';
import { safeStagingPath, stagingName } from '../../core/fetch/names.js';
import { stagedNames } from '../../core/fetch/zip.js';

describe('faults: staged names', () => {
  it('refuses an archive whose entries would still share a staged name, naming both', () => {
    expect(() => stagedNames('x.zip', ['a/c.dbf', 'b/c.dbf', 'a_c.dbf'], 'CAMS')).to.throw(
      /"a\/c\.dbf" and "a_c\.dbf" that would both be staged as "x__a_c\.dbf"/,
    );
    expect(() => stagedNames('x.zip', ['CAMS.DBF', 'cams.dbf'], 'CAMS')).to.throw(
      /"CAMS\.DBF" and "cams\.dbf"/,
    );
    expect(stagedNames('x.zip', ['one/c.dbf', 'two.dbf'], 'CAMS')).to.deep.equal([
      'x__c.dbf',
      'x__two.dbf',
    ]);
  });

  it('refuses names with control characters, whatever the transport', () => {
    for (const bad of ['cams\n.dbf', 'cams\u001b[31m.dbf', 'cams\u009b.dbf', 'cams\r.dbf']) {
      expect(() => safeStagingPath('/tmp', bad, 'CAMS'), JSON.stringify(bad)).to.throw(
        /control characters/,
      );
    }
  });

  it('stages a long name under a short one that keeps its start and extension', () => {
    const long = `day__cams_${'x'.repeat(240)}.dbf`;
    const short = stagingName(long);
    expect(Buffer.byteLength(short)).to.be.lessThan(80);
    expect(short).to.match(/^day__cams_x+~[0-9a-f]{16}\.dbf$/);
    expect(stagingName('cams.dbf')).to.equal('cams.dbf');
  });
});
