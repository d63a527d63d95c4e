import { expect } from 'chai';
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { karvyRecord, KARVY_MIN, writeDbfBytes } from '../../fixtures/dbf-bytes.js';
import { withTempDir } from '../support/day.js';

const exec = promisify(execFile);
const script = fileURLToPath(new URL('../../../scripts/dbf-corpus-check.py', import.meta.url));

/** A Python that has dbfread (Debian's python3-dbfread installs into the system Python). */
function pythonWithDbfread(): string | null {
  for (const py of ['python3', '/usr/bin/python3']) {
    try {
      execFileSync(py, ['-c', 'import dbfread'], { stdio: 'ignore' });
      return py;
    } catch {
      // try the next one
    }
  }
  return null;
}

describe('scripts/dbf-corpus-check.py (the decoder against dbfread)', function () {
  this.timeout(60_000);
  let dir: string;
  withTempDir('corpus', (d) => (dir = d));

  it('sorts a folder of generated files into agree and refused, with the reason', async function () {
    const python = pythonWithDbfread();
    if (python === null) this.skip();
    const records = [
      karvyRecord('БФ1', 1, '10.5000', { FUNDDESC: 'Фонд Развития', PLDG: '1.5E+00' }),
      karvyRecord('B01', 2, '20.0000', { PLDG: '1.23456789' }),
    ];
    await writeDbfBytes(join(dir, 'cyrillic.dbf'), {
      languageDriver: 0xc9,
      encoding: 'cp1251',
      fields: KARVY_MIN,
      records,
    });
    await writeDbfBytes(join(dir, 'STALE.DBF'), {
      version: 0x30,
      fields: KARVY_MIN,
      records,
      declaredRecords: 1,
    });
    await writeDbfBytes(join(dir, 'dbase7.dbf'), { version: 0x04, fields: KARVY_MIN, records });
    const { stdout } = await exec(python!, [script, dir, '--json']);
    const results = JSON.parse(stdout) as { file: string; verdict: string; details: string[] }[];
    const byFile = Object.fromEntries(results.map((r) => [r.file, r]));
    expect(Object.keys(byFile).sort()).to.deep.equal(['STALE.DBF', 'cyrillic.dbf', 'dbase7.dbf']);
    expect(byFile['cyrillic.dbf'].verdict).to.equal('agree');
    expect(byFile['cyrillic.dbf'].details.join('\n')).to.contain("PLDG unread: '1.23456789'");
    expect(byFile['STALE.DBF'].verdict).to.equal('agree');
    expect(byFile['STALE.DBF'].details[0])
      .to.contain('declares 1 record(s)')
      .and.contain('implies 2');
    expect(byFile['dbase7.dbf'].verdict).to.equal('refused');
    expect(byFile['dbase7.dbf'].details[0]).to.contain('RECON_DBF_HEADER').and.contain('dBase 7');
  });
});
