import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { EXIT_CODES, exitCodeFor, type ErrorCode } from '../../core/errors.js';

const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

/** The README's exit-code table: each code it lists, with the exit status of its row. */
function documentedExits(readme: string): Map<string, number> {
  const section = readme.split(/^### Exit codes$/m)[1]?.split(/^#{1,3} /m)[0] ?? '';
  const out = new Map<string, number>();
  for (const line of section.split('\n')) {
    const row = /^\| (\d) \|.*\|(.*)\|$/.exec(line);
    if (!row) continue;
    for (const [, code] of row[2].matchAll(/`([A-Z_]+)`/g)) out.set(code, Number(row[1]));
  }
  return out;
}

/** Codes missing from the table or listed under another exit status than the CLI's. */
function mismatches(readme: string): string[] {
  const documented = documentedExits(readme);
  return (Object.keys(EXIT_CODES) as ErrorCode[])
    .filter((code) => documented.get(code) !== exitCodeFor(code))
    .map(
      (code) => `${code}: README ${documented.get(code) ?? 'missing'}, CLI ${exitCodeFor(code)}`,
    );
}

describe('error codes and their documentation', () => {
  it('lists every error code in the README exit-code table under the exit status the CLI uses', () => {
    expect(documentedExits(README).size).to.be.greaterThan(20);
    expect(mismatches(README)).to.deep.equal([]);
  });

  it('lists no code in that table that the program does not have', () => {
    const unknown = [...documentedExits(README).keys()].filter(
      (c) => !Object.hasOwn(EXIT_CODES, c),
    );
    expect(unknown).to.deep.equal([]);
  });

  it('notices a code missing from the table, and one filed under the wrong exit', () => {
    expect(mismatches(README.replace('`RECON_DBF_KEY`, ', ''))).to.deep.equal([
      'RECON_DBF_KEY: README missing, CLI 3',
    ]);
    expect(
      mismatches(
        README.replace('`RECON_SUPERSEDED`', '').replace(
          '`RECON_USAGE`',
          '`RECON_USAGE`, `RECON_SUPERSEDED`',
        ),
      ),
    ).to.deep.equal(['RECON_SUPERSEDED: README 2, CLI 4']);
  });

  it('exits 1 for a code this version does not know (an error stored by another version)', () => {
    expect(exitCodeFor('RECON_SOMETHING_NEW')).to.equal(1);
    expect(exitCodeFor('toString')).to.equal(1);
    expect(exitCodeFor('RECON_DBF_DATE')).to.equal(3);
  });
});
