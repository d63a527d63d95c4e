import { expect } from 'chai';
import { truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import { resolveColumns } from '../../../core/dbf/columns.js';
import { readDbfLayout, type LayoutOptions } from '../../../core/dbf/layout.js';
import { decodeRange } from '../../../core/dbf/decoder.js';
import type { SourcePlugin } from '../../../core/plugin.js';
import karvy from '../../../sources/karvy/index.js';
import { rejects } from '../../support/rejects.js';
import {
  dbfBytes,
  karvyRecord,
  KARVY_MIN,
  writeDbfBytes,
  type ByteDbf,
  type ByteField,
} from '../../../fixtures/dbf-bytes.js';
import { withTempDir } from '../../support/day.js';
import { rangeTask } from '../../support/decode.js';

/** Decodes a whole file as a run would, with the given plugin: rows as readable objects. */
async function decodeFile(file: string, plugin: SourcePlugin = karvy, options: LayoutOptions = {}) {
  const layout = await readDbfLayout(file, options);
  const columns = resolveColumns(layout, plugin);
  const r = decodeRange(rangeTask(file, layout, columns), plugin);
  const rows = Array.from(r.pid, (p, i) => ({
    product: r.products[p],
    folio: r.folio[i] >= 0 ? String(r.folio[i]) : r.folioTexts[-1 - r.folio[i]],
    units: r.units[i],
    scheme: r.scheme[i] < 0 ? null : r.schemeNames[r.scheme[i]],
    pledged: r.pledged ? r.pledged[i] : 0,
  }));
  return { layout, rows, evidence: r.evidence, deleted: r.deleted };
}

describe('DBF files as other tools write them', () => {
  let dir: string;
  let n = 0;
  const path = () => join(dir, `f${n++}.dbf`);
  const write = async (spec: ByteDbf) => {
    const p = path();
    await writeDbfBytes(p, spec);
    return p;
  };
  const four = [
    karvyRecord('B01', 1, '10.0000'),
    karvyRecord('B01', 2, '20.0000'),
    karvyRecord('H01', 3, '30.0000'),
    karvyRecord('H01', 4, '40.0000'),
  ];
  withTempDir('layout', (d) => (dir = d));

  describe('record count', () => {
    for (const [label, declared] of [
      ['fewer (2 of 4)', 2],
      ['more (6 of 4)', 6],
      ['zero', 0],
      ['FF FF FF FF', 0xffffffff],
    ] as const) {
      it(`refuses a header count of ${label} with RECON_DBF_COUNT naming the file, the declared count and the count the size implies`, async () => {
        const file = await write({ fields: KARVY_MIN, records: four, declaredRecords: declared });
        const err = await rejects(readDbfLayout(file));
        expect(err.code).to.equal('RECON_DBF_COUNT');
        expect(err.message)
          .to.contain(file.split('/').pop()!)
          .and.contain(`declares ${declared} record(s)`)
          .and.contain('implies 4');
        expect(err.context).to.include({ declaredRecords: declared, presentRecords: 4 });
      });
      it(`with recordCount: present reads all 4 records of a file whose header says ${label}, keeping both counts`, async () => {
        const file = await write({ fields: KARVY_MIN, records: four, declaredRecords: declared });
        const { layout, rows } = await decodeFile(file, karvy, { recordCount: 'present' });
        expect(layout).to.include({ declaredRecords: declared, presentRecords: 4, recordCount: 4 });
        expect(rows.map((r) => r.folio)).to.deep.equal(['1', '2', '3', '4']);
      });
    }

    it('reads a file with or without the 0x1A end marker, and with padding after the marker', async () => {
      for (const endMarker of [true, false]) {
        const { layout } = await decodeFile(
          await write({ fields: KARVY_MIN, records: four, endMarker }),
        );
        expect(layout.recordCount).to.equal(4);
      }
      const p = path();
      const bytes = dbfBytes({ fields: KARVY_MIN, records: four });
      const recordLength = bytes.readUInt16LE(10);
      await writeFile(p, Buffer.concat([bytes, Buffer.alloc(recordLength - 1, 0)]));
      expect((await readDbfLayout(p)).recordCount).to.equal(4);
    });

    it('calls a file cut inside a record truncated, naming the record, even when the header count is stale', async () => {
      const file = await write({ fields: KARVY_MIN, records: four, endMarker: false });
      const { size } = await import('node:fs').then((fs) => fs.statSync(file));
      await truncate(file, size - 5);
      const err = await rejects(readDbfLayout(file));
      expect(err.code).to.equal('RECON_DBF_TRUNCATED');
      expect(err.context).to.include({ record: 4 });
    });

    it('says RECON_DBF_TRUNCATED for a header cut inside its field descriptors (not "duplicate field name")', async () => {
      const p = path();
      await writeFile(
        p,
        dbfBytes({ fields: KARVY_MIN, records: four }).subarray(0, 32 + 32 * 3 + 10),
      );
      const err = await rejects(readDbfLayout(p));
      expect(err.code).to.equal('RECON_DBF_TRUNCATED');
      expect(err.message).to.contain('ends inside field descriptor 4');
    });

    it('says a header length of 65535 is impossible (not "record -73")', async () => {
      const err = await rejects(
        readDbfLayout(await write({ fields: KARVY_MIN, records: four, headerLength: 65535 })),
      );
      expect(err.code).to.equal('RECON_DBF_HEADER');
      expect(err.message).to.match(
        /header length 65535 \(bytes 8–9\) is impossible: the file is only \d+ bytes/,
      );
    });

    it('says a header length shorter than its own field descriptors is impossible', async () => {
      const err = await rejects(
        readDbfLayout(await write({ fields: KARVY_MIN, records: four, headerLength: 100 })),
      );
      expect(err.code).to.equal('RECON_DBF_HEADER');
      expect(err.message).to.contain(
        'header length 100 (bytes 8–9) is impossible: the field descriptors end at byte 225',
      );
    });
  });

  describe('versions', () => {
    for (const version of [0x03, 0x83, 0x8b, 0xf5, 0x30, 0x31, 0x32]) {
      it(`reads version 0x${version.toString(16)} (memo file absent, no needed column a memo)`, async () => {
        const fields: ByteField[] = [
          ...KARVY_MIN,
          { name: 'NOTES', type: 'M', size: version >= 0x30 ? 4 : 10 },
        ];
        const { layout, rows } = await decodeFile(await write({ version, fields, records: four }));
        expect(layout.version).to.equal(version);
        expect(rows.map((r) => r.units)).to.deep.equal([100000, 200000, 300000, 400000]);
      });
    }
    for (const [version, name] of [
      [0x02, 'dBase II'],
      [0x04, 'dBase 7'],
      [0x8c, 'dBase 7 with memo'],
    ] as const) {
      it(`refuses version 0x${version.toString(16)} by name (${name})`, async () => {
        const err = await rejects(
          readDbfLayout(await write({ version, fields: KARVY_MIN, records: four })),
        );
        expect(err.code).to.equal('RECON_DBF_HEADER');
        expect(err.message).to.contain(`is a ${name}`);
      });
    }
    it('refuses a version byte it does not know, naming it', async () => {
      const err = await rejects(
        readDbfLayout(await write({ version: 0x99, fields: KARVY_MIN, records: four })),
      );
      expect(err.message).to.contain('version byte 0x99');
    });
  });

  describe('code pages', () => {
    const cases: [driver: number, codePage: string, product: string, scheme: string][] = [
      [0x01, 'cp437', 'BÄ1', 'Fonds Übersee ñ'],
      [0x02, 'cp850', 'BÉ1', 'Fundo Ações ø'],
      [0x64, 'cp852', 'BŁ1', 'Fundusz Łódź ř'],
      [0x26, 'cp866', 'БЫ1', 'Фонд Сбережений'],
      [0x65, 'cp866', 'ЖЮ1', 'Фонд роста'],
      [0x4d, 'cp936', '基金1', '中国增长基金'],
      [0x7c, 'cp874', 'กข1', 'กองทุนไทย'],
      [0xc8, 'cp1250', 'BŠ1', 'Fond Škoda ť'],
      [0xc9, 'cp1251', 'БФ1', 'Фонд Развития'],
      [0x57, 'cp1252', 'B€1', 'Fonds Été œ'],
      [0x03, 'cp1252', 'BŸ1', 'Fonds Noël'],
      [0x13, 'cp932', 'ファ1', '日本株ファンド'],
      [0x4f, 'cp950', '基金2', '台灣成長基金'],
      [0x4e, 'cp949', '펀드1', '한국성장펀드'],
    ];
    for (const [driver, codePage, product, scheme] of cases) {
      it(`decodes keys and names by language driver 0x${driver.toString(16)} (${codePage})`, async () => {
        const file = await write({
          languageDriver: driver,
          encoding: codePage,
          fields: KARVY_MIN,
          records: [karvyRecord(product, 7, '1.5000', { FUNDDESC: scheme })],
        });
        const { layout, rows } = await decodeFile(file);
        expect(layout).to.include({ encoding: codePage, encodingOrigin: 'language-driver' });
        expect(rows).to.deep.equal([
          { product: product.toUpperCase(), folio: '7', units: 15000, scheme, pledged: 0 },
        ]);
      });
    }

    it('decodes by the configured encoding over the driver, and an unknown driver falls back to latin1 saying which id', async () => {
      const file = await write({
        languageDriver: 0xf0,
        encoding: 'cp866',
        fields: KARVY_MIN,
        records: [karvyRecord('B01', 7, '1.0000', { FUNDDESC: 'Фонд' })],
      });
      const fallback = await decodeFile(file);
      expect(fallback.layout).to.include({ encoding: 'latin1', encodingOrigin: 'fallback' });
      expect(fallback.layout.encodingNote).to.contain('language driver 0xf0').and.contain('latin1');
      expect(fallback.rows[0].scheme).to.equal(
        iconv.decode(iconv.encode('Фонд', 'cp866'), 'latin1'),
      );
      const configured = await decodeFile(file, karvy, { encoding: 'cp866' });
      expect(configured.layout).to.include({ encoding: 'cp866', encodingOrigin: 'config' });
      expect(configured.rows[0].scheme).to.equal('Фонд');
    });

    it('refuses a key whose bytes have no character in the declared code page (a file not in the page it declares)', async () => {
      const file = await write({
        languageDriver: 0x03,
        fields: KARVY_MIN,
        records: [
          karvyRecord('B01', 1, '1.0000'),
          karvyRecord(Buffer.from([0x42, 0x81, 0x31]).toString('latin1'), 2, '1.0000'),
        ],
      });
      const err = await rejects(decodeFile(file));
      expect(err.code).to.equal('RECON_DBF_KEY');
      expect(err.message).to.contain(
        'record 2 key field PRCODE has bytes with no character in code page cp1252',
      );
      const asLatin1 = await decodeFile(file, karvy, { encoding: 'latin1' });
      expect(asLatin1.rows[1].product).to.equal('B\u00811');
    });

    it('decodes UTF-8 text when config says utf8 (a multi-byte page, not a byte table)', async () => {
      const file = await write({
        encoding: 'utf8',
        fields: KARVY_MIN,
        records: [karvyRecord('Ä1', 7, '1.0000', { FUNDDESC: 'Fonds Übersee – 中国' })],
      });
      const { layout, rows } = await decodeFile(file, karvy, { encoding: 'utf8' });
      expect(layout).to.include({ encoding: 'utf8', encodingOrigin: 'config' });
      expect(rows[0]).to.include({ product: 'Ä1', scheme: 'Fonds Übersee – 中国' });
    });

    it('decodes field names in the code page too', async () => {
      const fields: ByteField[] = [...KARVY_MIN, { name: 'ГОРОД', type: 'C', size: 10 }];
      const { layout } = await decodeFile(
        await write({ languageDriver: 0xc9, encoding: 'cp1251', fields, records: four }),
      );
      expect(layout.fields.map((f) => f.name)).to.include('ГОРОД');
    });
  });

  describe('evidence columns', () => {
    it('leaves unreadable pledged values absent (never 0), counts them with samples, and reads exponent form', async () => {
      const records = [
        karvyRecord('B01', 1, '10.0000', { PLDG: '***' }),
        karvyRecord('B01', 2, '10.0000', { PLDG: '1.2.3' }),
        karvyRecord('B01', 3, '10.0000', { PLDG: 'ABC' }),
        karvyRecord('B01', 4, '10.0000', { PLDG: '1.5E+00' }),
        karvyRecord('B01', 5, '10.0000', { PLDG: '' }),
        karvyRecord('B01', 6, '10.0000', { PLDG: '2.5000' }),
      ];
      const { rows, evidence } = await decodeFile(await write({ fields: KARVY_MIN, records }));
      expect(rows.map((r) => r.pledged)).to.deep.equal([
        Number.NaN,
        Number.NaN,
        Number.NaN,
        15000,
        0,
        25000,
      ]);
      expect(evidence.unreadable).to.equal(3);
      expect(evidence.samples).to.deep.equal([
        { record: 1, field: 'PLDG', rawHex: Buffer.from('***'.padStart(18)).toString('hex') },
        { record: 2, field: 'PLDG', rawHex: Buffer.from('1.2.3'.padStart(18)).toString('hex') },
        { record: 3, field: 'PLDG', rawHex: Buffer.from('ABC'.padStart(18)).toString('hex') },
      ]);
    });

    it('keeps units strict: exponent form in the units column is still RECON_DBF_NUMBER', async () => {
      const file = await write({ fields: KARVY_MIN, records: [karvyRecord('B01', 1, '1.5E+00')] });
      const err = await rejects(decodeFile(file));
      expect(err.code).to.equal('RECON_DBF_NUMBER');
      expect(err.context).to.include({ record: 1, field: 'BALUNITS' });
    });
  });

  describe('strict only about the columns read', () => {
    const extra = (f: ByteField) => [...KARVY_MIN, f];
    it('reads files whose unread fields are wide numbers, 10-byte dates, unknown types or duplicate names', async () => {
      const city: ByteField = { name: 'CITY', type: 'C', size: 10 };
      for (const fields of [
        extra({ name: 'WIDE', type: 'N', size: 30 }),
        extra({ name: 'ODDDATE', type: 'D', size: 10 }),
        extra({ name: 'ZERO', type: '0', size: 2 }),
        extra({ name: '_NullFlags', type: '0', size: 1 }),
        [...KARVY_MIN, city, city],
      ]) {
        const { rows } = await decodeFile(await write({ version: 0x30, fields, records: four }));
        expect(rows.length, fields.at(-1)!.name).to.equal(4);
      }
    });

    it('reads a needed 10-byte D field whose bytes are yyyymmdd and padding (the date itself stays strict)', async () => {
      const fields: ByteField[] = [...KARVY_MIN, { name: 'NAVDATE', type: 'D', size: 10 }];
      const plugin: SourcePlugin = {
        ...karvy,
        columns: { ...karvy.columns, asOf: { name: 'NAVDATE' } },
      };
      const { rows } = await decodeFile(
        await write({ fields, records: four.map((r) => ({ ...r, NAVDATE: '20241224' })) }),
        plugin,
      );
      expect(rows.length).to.equal(4);
      const err = await rejects(
        decodeFile(
          await write({ fields, records: four.map((r) => ({ ...r, NAVDATE: '2024-12-24' })) }),
          plugin,
        ),
      );
      expect(err.code).to.equal('RECON_DBF_DATE');
    });

    const needs = (roles: Partial<SourcePlugin['columns']>): SourcePlugin => ({
      ...karvy,
      columns: { ...karvy.columns, ...roles },
    });
    const cases: [string, ByteField, Partial<SourcePlugin['columns']>, RegExp][] = [
      [
        'a wide number',
        { name: 'WIDE', type: 'N', size: 30 },
        { units: { name: 'WIDE' } },
        /WIDE \(units\) is a numeric field 30 bytes wide/,
      ],
      [
        'an unknown type',
        { name: 'ODD', type: 'X', size: 4 },
        { folio: { name: 'ODD' } },
        /ODD \(folio\) has a field type this reader does not know \("X"\)/,
      ],
      [
        'a memo',
        { name: 'NOTES', type: 'M', size: 10 },
        { schemeName: { name: 'NOTES' } },
        /NOTES \(schemeName\) is a memo field \(type M\)/,
      ],
      [
        'a duplicate name',
        { name: 'BALUNITS', type: 'N', size: 10 },
        {},
        /BALUNITS \(units\) appears more than once/,
      ],
    ];
    for (const [label, field, roles, message] of cases) {
      it(`refuses ${label} when the source needs that column, naming it and why`, async () => {
        const file = await write({ version: 0x83, fields: extra(field), records: four });
        const err = await rejects(decodeFile(file, needs(roles)));
        expect(err.code).to.equal('RECON_DBF_COLUMNS');
        expect(err.message).to.match(message);
      });
    }
  });
});
