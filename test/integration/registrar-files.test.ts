import { expect } from 'chai';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  dbfBytes,
  karvyRecord,
  KARVY_MIN,
  writeDbfBytes,
  type ByteField,
} from '../../fixtures/dbf-bytes.js';
import { tempDir, useDay } from '../support/day.js';
import { recon, type CliResult } from '../support/cli.js';

/** `recon <args>` run in `dir`. */
const reconIn = (dir: string, ...args: string[]): Promise<CliResult> => recon(args, { cwd: dir });

const LEDGER = [1, 2, 3, 4]
  .map(
    (f) =>
      `{"product_code":"${f <= 2 ? 'B01' : 'H01'}","folio_no":"${f}","units":${f * 10},"transaction_type":"BUY","transaction_date":{"$date":"2024-12-20T00:00:00Z"}}`,
  )
  .join('\n');

/** The KARVY source on ./incoming, with more source options first (`encoding: cp437, `). */
const karvyOn = (options = '') =>
  `{ name: KARVY, plugin: karvy, ${options}fetch: { type: local, dir: ./incoming, pattern: "karvy*.dbf" } }`;

function config(karvySource: string): string {
  return `ledger: { type: ndjson, path: ./ledger.ndjson }
store: { type: files, dir: ./out }
log: { level: silent }
sources:
  - ${karvySource}
`;
}

const FOUR = [
  karvyRecord('B01', 1, '10.0000'),
  karvyRecord('B01', 2, '20.0000'),
  karvyRecord('H01', 3, '30.0000'),
  karvyRecord('H01', 4, '40.0000'),
];

describe('recon run over registrar files as other tools leave them (offline, through the CLI)', function () {
  this.timeout(60_000);
  const world = useDay('regfiles', { offline: true, each: true, ledger: LEDGER });
  const writeConfig = (source = karvyOn()) =>
    writeFile(join(world.dir, 'recon.config.yaml'), config(source));

  /** The summary of `recon run --json` in the day, which must exit 0. */
  async function committedSummary() {
    const r = await reconIn(world.dir, 'run', '--json');
    expect(r.code, r.stderr).to.equal(0);
    return JSON.parse(r.stdout) as {
      counts: Record<string, number>;
      sources: { KARVY: { files: Record<string, unknown>[] } };
    };
  }

  const published = async () =>
    (await readdir(join(world.dir, 'out', 'runs')).catch(() => [] as string[])).filter(
      (d) => !d.startsWith('.'),
    );
  const failedDoc = async () => {
    const files = await readdir(join(world.dir, 'out', 'failed'));
    return JSON.parse(await readFile(join(world.dir, 'out', 'failed', files[0]), 'utf8')) as {
      error: Record<string, unknown>;
    };
  };

  for (const declared of [2, 6, 0, 0xffffffff]) {
    it(`fails a KARVY file of 4 records whose header says ${declared} with RECON_DBF_COUNT, exit 3, nothing published`, async () => {
      await writeConfig();
      await writeDbfBytes(join(world.dir, 'incoming', 'karvy_1.dbf'), {
        fields: KARVY_MIN,
        records: FOUR,
        declaredRecords: declared,
      });
      const r = await reconIn(world.dir, 'run', '--json');
      expect(r.code).to.equal(3);
      expect(r.stderr).to.equal(
        `recon: RECON_DBF_COUNT: karvy_1.dbf: the header declares ${declared} record(s) but the file's size (${dbfBytes({ fields: KARVY_MIN, records: FOUR }).length} bytes: header 225, records of 153) implies 4; a stale count would drop or invent records silently (the source option recordCount: present reads every complete record present)\n`,
      );
      expect(await published()).to.deep.equal([]);
      expect((await failedDoc()).error).to.include({
        code: 'RECON_DBF_COUNT',
        file: 'karvy_1.dbf',
        declaredRecords: declared,
        presentRecords: 4,
      });
    });
  }

  describe('every version and layout, through a full run', () => {
    const karvySource = karvyOn();
    // The karvy columns plus one odd field, taken for units by an inline plugin when "needed".
    const inline = (units: string) =>
      `{ name: KARVY, fetch: { type: local, dir: ./incoming, pattern: "karvy*.dbf" }, plugin: { name: k2, columns: { productCode: { name: PRCODE }, folio: { name: ACNO }, units: { name: ${units} }, asOf: { name: TODATE } }, dateFormats: [dd-mm-yyyy] } }`;
    const withField = (field: ByteField) => [...KARVY_MIN, field];

    for (const version of [0x03, 0x83, 0x8b, 0xf5, 0x30, 0x31, 0x32]) {
      it(`commits a version 0x${version.toString(16)} file with a memo field, no memo file, a wide number and an unknown field type nobody reads`, async () => {
        await writeFile(join(world.dir, 'recon.config.yaml'), config(karvySource));
        const fields = [
          ...KARVY_MIN,
          { name: 'NOTES', type: 'M', size: 10 },
          { name: 'WIDE', type: 'N', size: 30 },
          { name: '_NullFlags', type: '0', size: 1 },
        ];
        await writeDbfBytes(join(world.dir, 'incoming', 'karvy_1.dbf'), {
          version,
          fields,
          records: FOUR,
        });
        const r = await reconIn(world.dir, 'run', '--json');
        expect(r.code, r.stderr).to.equal(0);
        expect((JSON.parse(r.stdout) as { counts: unknown }).counts).to.deep.equal({
          matched: 4,
          mismatched: 0,
          dbf_only: 0,
          mongo_only: 0,
        });
      });
    }

    const failures: [label: string, spec: () => Buffer, source: string, stderr: RegExp][] = [
      [
        'a header cut inside its field descriptors',
        () => dbfBytes({ fields: KARVY_MIN, records: FOUR }).subarray(0, 32 + 32 * 3 + 10),
        karvySource,
        /^recon: RECON_DBF_TRUNCATED: karvy_1\.dbf: the file ends inside field descriptor 4 /,
      ],
      [
        'a header length of 65535',
        () => dbfBytes({ fields: KARVY_MIN, records: FOUR, headerLength: 65535 }),
        karvySource,
        /^recon: RECON_DBF_HEADER: karvy_1\.dbf: header length 65535 \(bytes 8–9\) is impossible: the file is only 838 bytes\n$/,
      ],
      [
        'a dBase II file',
        () => dbfBytes({ version: 0x02, fields: KARVY_MIN, records: FOUR }),
        karvySource,
        /^recon: RECON_DBF_HEADER: karvy_1\.dbf is a dBase II /,
      ],
      [
        'a dBase 7 file',
        () => dbfBytes({ version: 0x04, fields: KARVY_MIN, records: FOUR }),
        karvySource,
        /^recon: RECON_DBF_HEADER: karvy_1\.dbf is a dBase 7 /,
      ],
      [
        'a needed number 30 wide',
        () => dbfBytes({ fields: withField({ name: 'WIDE', type: 'N', size: 30 }), records: FOUR }),
        inline('WIDE'),
        /^recon: RECON_DBF_COLUMNS: karvy_1\.dbf: column WIDE \(units\) is a numeric field 30 bytes wide; at most 20 are read\n$/,
      ],
      [
        'a needed field of unknown type',
        () => dbfBytes({ fields: withField({ name: 'ODD', type: 'X', size: 4 }), records: FOUR }),
        inline('ODD'),
        /^recon: RECON_DBF_COLUMNS: karvy_1\.dbf: column ODD \(units\) has a field type this reader does not know \("X"\); expected N or F or C\n$/,
      ],
      [
        'a needed memo field',
        () =>
          dbfBytes({
            version: 0x83,
            fields: withField({ name: 'NOTES', type: 'M', size: 10 }),
            records: FOUR,
          }),
        inline('NOTES'),
        /^recon: RECON_DBF_COLUMNS: karvy_1\.dbf: column NOTES \(units\) is a memo field \(type M\), which is never read; expected N or F or C\n$/,
      ],
      [
        'a needed column whose name appears twice',
        () =>
          dbfBytes({ fields: withField({ name: 'BALUNITS', type: 'N', size: 10 }), records: FOUR }),
        karvySource,
        /^recon: RECON_DBF_COLUMNS: karvy_1\.dbf: column BALUNITS \(units\) appears more than once in the header/,
      ],
      [
        'units in exponent form (units stay strict)',
        () => dbfBytes({ fields: KARVY_MIN, records: [karvyRecord('B01', 1, '1.5E+00')] }),
        karvySource,
        /^recon: RECON_DBF_NUMBER: karvy_1\.dbf: record 1 field BALUNITS is not a number with at most 4 decimals: "1\.5E\+00"\n$/,
      ],
    ];
    for (const [label, bytes, source, stderr] of failures) {
      it(`fails ${label} with its coded error, exit 3, nothing published`, async () => {
        await writeFile(join(world.dir, 'recon.config.yaml'), config(source));
        await writeFile(join(world.dir, 'incoming', 'karvy_1.dbf'), bytes());
        const r = await reconIn(world.dir, 'run');
        expect(r.code, r.stderr).to.equal(3);
        expect(r.stderr).to.match(stderr);
        expect(await published()).to.deep.equal([]);
      });
    }
  });

  it('with recordCount: present reads all 4 records, matches all 4 keys and records both counts in the run document', async () => {
    await writeConfig(karvyOn('recordCount: present, '));
    await writeDbfBytes(join(world.dir, 'incoming', 'karvy_1.dbf'), {
      fields: KARVY_MIN,
      records: FOUR,
      declaredRecords: 2,
    });
    const summary = await committedSummary();
    expect(summary.counts).to.deep.equal({ matched: 4, mismatched: 0, dbf_only: 0, mongo_only: 0 });
    expect(summary.sources.KARVY.files[0]).to.include({
      records: 4,
      declaredRecords: 2,
      presentRecords: 4,
    });
    const [runId] = await published();
    const doc = JSON.parse(
      await readFile(join(world.dir, 'out', 'runs', runId, 'run.json'), 'utf8'),
    ) as {
      sources: { KARVY: { files: Record<string, unknown>[] } };
    };
    expect(doc.sources.KARVY.files[0]).to.include({
      records: 4,
      declared_records: 2,
      present_records: 4,
    });
    const table = await reconIn(world.dir, 'run', '--force');
    expect(table.stdout).to.contain(
      'KARVY karvy_1.dbf: header declares 2 records, file holds 4; read 4',
    );
  });

  it('reconciles a cp437 (driver 0x01) file, and reports unreadable pledged values in the run document and the summary without inventing a reason', async () => {
    await writeConfig();
    const records = FOUR.map((rec, i) => ({
      ...rec,
      FUNDDESC: 'Fonds Übersee',
      BALUNITS: i === 0 ? '7.0000' : rec.BALUNITS,
      PLDG: i === 0 ? '***' : '0',
    }));
    await writeDbfBytes(join(world.dir, 'incoming', 'karvy_1.dbf'), {
      languageDriver: 0x01,
      encoding: 'cp437',
      fields: KARVY_MIN,
      records,
    });
    const summary = await committedSummary();
    expect(summary.counts).to.deep.equal({ matched: 3, mismatched: 1, dbf_only: 0, mongo_only: 0 });
    expect(summary.sources.KARVY.files[0]).to.deep.include({
      codePage: { encoding: 'cp437', origin: 'language-driver', languageDriver: '0x01' },
      evidence: {
        unreadable: 1,
        samples: [
          { record: 1, field: 'PLDG', rawHex: Buffer.from('***'.padStart(18)).toString('hex') },
        ],
      },
    });
    const [runId] = await published();
    const csv = await readFile(join(world.dir, 'out', 'runs', runId, 'results.csv'), 'utf8');
    const mismatch = csv.split('\n').find((l) => l.includes(',mismatched,'))!;
    expect(mismatch).to.contain('Fonds Übersee').and.not.contain('pledged');
  });

  it('names an unknown language driver and its latin1 fallback in the run document, the summary and the log', async () => {
    await writeFile(
      join(world.dir, 'recon.config.yaml'),
      config(karvyOn()).replace('log: { level: silent }', 'log: { level: warn }'),
    );
    await writeDbfBytes(join(world.dir, 'incoming', 'karvy_1.dbf'), {
      languageDriver: 0xf0,
      fields: KARVY_MIN,
      records: FOUR,
    });
    const r = await reconIn(world.dir, 'run');
    expect(r.code, r.stderr).to.equal(0);
    const note = 'language driver 0xf0 names no code page known here; decoded as latin1';
    expect(r.stdout).to.contain(`KARVY karvy_1.dbf: ${note}`);
    expect(r.stderr).to.contain(note).and.contain('"languageDriver":"0xF0"');
    const [runId] = await published();
    const doc = JSON.parse(
      await readFile(join(world.dir, 'out', 'runs', runId, 'run.json'), 'utf8'),
    ) as {
      sources: { KARVY: { files: { code_page: unknown }[] } };
    };
    expect(doc.sources.KARVY.files[0].code_page).to.deep.equal({
      encoding: 'latin1',
      origin: 'fallback',
      language_driver: '0xF0',
      note,
    });
  });

  it('validate-config accepts encoding: cp437 and rejects an encoding it cannot decode (exit 2)', async () => {
    await writeConfig(karvyOn('encoding: cp437, '));
    expect((await reconIn(world.dir, 'validate-config')).code).to.equal(0);
    await writeConfig(karvyOn('encoding: cp9999, '));
    const r = await reconIn(world.dir, 'validate-config');
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(
      /^recon: RECON_CONFIG_INVALID: .*sources\.KARVY\.encoding "cp9999" is not an encoding this reader can decode/,
    );
  });

  describe('recon inspect', () => {
    beforeEach(async () => {
      await writeConfig();
    });

    it('lists every problem of a broken file with its code, shows the rows as decoded, and exits as run would (3)', async () => {
      const records = [
        karvyRecord('B01', 1, '10.0000', { FUNDDESC: 'Fundusz Łódź' }),
        karvyRecord('B01', 2, '20.0000', { PLDG: '***' }),
        karvyRecord('H01', 3, '30.0000'),
        karvyRecord('H01', 4, '4O.0000'),
      ];
      await writeDbfBytes(join(world.dir, 'karvy_1.dbf'), {
        languageDriver: 0x64,
        encoding: 'cp852',
        fields: KARVY_MIN,
        records,
        declaredRecords: 2,
      });
      const r = await reconIn(world.dir, 'inspect', 'karvy_1.dbf', '--rows', '2');
      expect(r.code).to.equal(3);
      expect(r.stdout)
        .to.contain('code page  cp852 (language driver 0x64 Eastern European MS-DOS)')
        .and.contain('records    2 declared, 4 present')
        .and.contain(
          'roles      productCode=PRCODE  folio=ACNO  units=BALUNITS  asOf=TODATE  schemeName=FUNDDESC  pledged=PLDG',
        )
        .and.contain(
          '#1  PRCODE="B01"  ACNO=1  BALUNITS=10  TODATE="24-12-2024"  FUNDDESC="Fundusz Łódź"  PLDG=0',
        )
        .and.contain('PLDG=UNREADABLE(2020202020202020202020202020202a2a2a)')
        .and.contain(
          'decoded    3 live rows, 0 deleted (records in error left out), as of 2024-12-24',
        )
        .and.contain(
          'problems   2\n  RECON_DBF_COUNT: karvy_1.dbf: the header declares 2 record(s)',
        )
        .and.contain('  RECON_DBF_NUMBER: karvy_1.dbf: record 4 field BALUNITS is not a number');
      expect(r.stdout).not.to.contain('#3');
      const json = JSON.parse(
        (await reconIn(world.dir, 'inspect', 'karvy_1.dbf', '--json')).stdout,
      ) as {
        problems: { code: string; record?: number }[];
        evidence: { unreadable: number };
      };
      expect(json.problems.map((p) => [p.code, p.record])).to.deep.equal([
        ['RECON_DBF_COUNT', undefined],
        ['RECON_DBF_NUMBER', 4],
      ]);
      expect(json.evidence.unreadable).to.equal(1);
    });

    it('exits 0 for a file a run would accept, and refuses a dBase 7 file by name without a config (exit 3)', async () => {
      await writeDbfBytes(join(world.dir, 'karvy_ok.dbf'), { fields: KARVY_MIN, records: FOUR });
      const ok = await reconIn(world.dir, 'inspect', 'karvy_ok.dbf', '--source', 'karvy');
      expect(ok.code, ok.stdout).to.equal(0);
      expect(ok.stdout)
        .to.contain('decoded    4 live rows, 0 deleted, as of 2024-12-24')
        .and.contain('problems   none');
      const bare = await tempDir('inspect-bare');
      try {
        await writeDbfBytes(join(bare, 'old.dbf'), {
          version: 0x8c,
          fields: KARVY_MIN,
          records: FOUR,
        });
        const r = await reconIn(bare, 'inspect', 'old.dbf');
        expect(r.code).to.equal(3);
        expect(r.stdout).to.contain('RECON_DBF_HEADER: old.dbf is a dBase 7 with memo');
      } finally {
        await rm(bare, { recursive: true, force: true });
      }
      expect(
        (await reconIn(world.dir, 'inspect', 'karvy_ok.dbf', '--source', 'NOPE')).code,
      ).to.equal(2);
      expect((await reconIn(world.dir, 'inspect', 'karvy_ok.dbf', '--rows', 'x')).code).to.equal(2);
      const help = await reconIn(world.dir, 'inspect', '--help');
      expect(help.code).to.equal(0);
      expect(help.stdout)
        .to.contain('Usage: recon inspect [options] <file>')
        .and.contain('$ recon inspect incoming/karvy_20241224.dbf')
        .and.contain('RECON_DBF_COUNT');
      expect((await reconIn(world.dir, '--help')).stdout).to.match(/inspect \[options\] <file>/);
    });
  });

  describe('a registrar declared in YAML alone', () => {
    const FRANKLIN = `
    name: FRANKLIN
    fetch: { type: local, dir: ./incoming, pattern: "ft_*.dbf" }
    plugin:
      name: franklin
      description: Franklin Templeton holdings (DBF)
      columns:
        productCode: { name: SCHEME_CD }
        folio: { name: FOLIO, aliases: [FOLIO_NO] }
        units: { name: BAL_UNITS }
        asOf: { name: NAV_DATE }
        schemeName: { name: SCHEME_NM }
      dateFormats: [dd-MMM-yyyy, yyyymmdd]
      normalise: { productCode: upper, folio: strip-leading-zeros }`;
    const fields = [
      { name: 'SCHEME_CD', type: 'C', size: 8 },
      { name: 'FOLIO', type: 'C', size: 12 },
      { name: 'SCHEME_NM', type: 'C', size: 30 },
      { name: 'BAL_UNITS', type: 'N', size: 16, decimals: 3 },
      { name: 'NAV_DATE', type: 'D', size: 8 },
    ];

    it('reconciles a Franklin Templeton-style file end to end: aliases, D dates and normalisers from YAML', async () => {
      await writeFile(join(world.dir, 'recon.config.yaml'), config(FRANKLIN.trim()));
      await writeFile(
        join(world.dir, 'ledger.ndjson'),
        [
          '{"product_code":"FT01","folio_no":"123","units":10.5,"transaction_type":"BUY","transaction_date":{"$date":"2024-12-20T00:00:00Z"}}',
          '{"product_code":"FT02","folio_no":"9","units":3,"transaction_type":"BUY","transaction_date":{"$date":"2024-12-20T00:00:00Z"}}',
        ].join('\n'),
      );
      await writeDbfBytes(join(world.dir, 'incoming', 'ft_20241224.dbf'), {
        fields,
        records: [
          {
            SCHEME_CD: 'ft01',
            FOLIO: '000123',
            SCHEME_NM: 'Franklin India Bluechip',
            BAL_UNITS: '10.500',
            NAV_DATE: '20241224',
          },
          {
            SCHEME_CD: 'FT02',
            FOLIO: '9',
            SCHEME_NM: 'Franklin India Prima',
            BAL_UNITS: '2.000',
            NAV_DATE: '20241224',
          },
        ],
      });
      expect((await reconIn(world.dir, 'validate-config')).code).to.equal(0);
      const r = await reconIn(world.dir, 'run', '--json');
      expect(r.code, r.stderr).to.equal(0);
      const summary = JSON.parse(r.stdout) as {
        counts: Record<string, number>;
        sources: { FRANKLIN: { plugin: string; asOf: string } };
      };
      expect(summary.counts).to.deep.equal({
        matched: 1,
        mismatched: 1,
        dbf_only: 0,
        mongo_only: 0,
      });
      expect(summary.sources.FRANKLIN).to.include({
        plugin: 'franklin (inline)',
        asOf: '2024-12-24',
      });
      const [runId] = await published();
      const csv = await readFile(join(world.dir, 'out', 'runs', runId, 'results.csv'), 'utf8');
      expect(csv).to.match(/,FRANKLIN,matched,FT01,123,Franklin India Bluechip,10\.5,10\.5,0,1/);
      expect(csv).to.match(/,FRANKLIN,mismatched,FT02,9,Franklin India Prima,2,3,1,1/);
    });

    it('refuses an inline plugin with a wrong column, format or normaliser with RECON_PLUGIN_INVALID naming each (exit 2)', async () => {
      const bad = FRANKLIN.replace('units: { name: BAL_UNITS }', 'units: { aliases: [BAL_UNITS] }')
        .replace('[dd-MMM-yyyy, yyyymmdd]', '[mm/dd/yyyy]')
        .replace('folio: strip-leading-zeros', 'folio: reverse');
      await writeFile(join(world.dir, 'recon.config.yaml'), config(bad.trim()));
      for (const cmd of [['validate-config'], ['run']]) {
        const r = await reconIn(world.dir, ...cmd);
        expect(r.code, cmd[0]).to.equal(2);
        expect(r.stderr)
          .to.match(
            /^recon: RECON_PLUGIN_INVALID: plugin franklin \(inline\) of source FRANKLIN is invalid: /,
          )
          .and.to.contain('columns.units.name must be a non-empty string')
          .and.to.contain('dateFormats has unknown format "mm/dd/yyyy"')
          .and.to.contain(
            'normalise.folio must name upper, lower, strip-leading-zeros, remove-spaces',
          );
      }
    });
  });
});
