import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BSON } from 'mongodb';
import { ReconError } from '../../../core/errors.js';
import {
  fieldColumns,
  LedgerColumns,
  numberish,
  parseLedgerLine,
  readLedgerColumns,
} from '../../../core/ledger/ndjson-columns.js';
import { unitsFromValue } from '../../../core/ledger/units-value.js';
import { keyText } from '../../../core/ledger/positions.js';
import { DEFAULT_LEDGER_FIELDS } from '../../../core/ledger/types.js';

const COLUMNS = fieldColumns(DEFAULT_LEDGER_FIELDS);

type Outcome = Record<string, unknown>;

/** What a line means through bson's extended-JSON parser, as the ndjson ledger read it before. */
function viaEjson(line: string): Outcome {
  const tx = BSON.EJSON.parse(line, { relaxed: true }) as Record<string, unknown>;
  const when = tx.transaction_date;
  let units: unknown;
  try {
    units = unitsFromValue(numberish(tx.units)) ?? NaN;
  } catch (err) {
    units = (err as ReconError).code;
  }
  return {
    productCode: keyText(numberish(tx.product_code)),
    folio: keyText(numberish(tx.folio_no)),
    type:
      typeof tx.transaction_type === 'string' ? tx.transaction_type : String(tx.transaction_type),
    units,
    dateMs: when instanceof Date ? when.getTime() : NaN,
    scheme: typeof tx.scheme_name === 'string' ? tx.scheme_name : null,
    id: tx._id === undefined || tx._id === null ? null : String(tx._id),
  };
}

function viaColumns(line: string, lineNo = 1): Outcome {
  const cols = new LedgerColumns(1);
  let units: unknown;
  try {
    parseLedgerLine(line, lineNo, COLUMNS, cols, 'ledger.ndjson');
    units = cols.units[0];
  } catch (err) {
    if ((err as ReconError).code !== 'RECON_FIXED_POINT_OVERFLOW') throw err;
    units = (err as ReconError).code;
    // The line's other fields, without the units that overflowed.
    parseLedgerLine(
      line.replace(/"units":.*?,"transaction_type"/, '"transaction_type"'),
      lineNo,
      COLUMNS,
      cols,
      'ledger.ndjson',
    );
  }
  return {
    productCode: keyText(cols.productCode(0)),
    folio: keyText(cols.folio(0)),
    type: typeof cols.type(0) === 'string' ? cols.type(0) : String(cols.type(0)),
    units,
    dateMs: cols.dateMs[0],
    scheme: cols.schemeName(0),
    id: cols.id(0),
  };
}

const line = (fields: Record<string, string>) => {
  const all: Record<string, string> = {
    _id: '"t1"',
    product_code: '"B01"',
    folio_no: '"1014433353"',
    scheme_name: '"Scheme"',
    units: '916.253',
    transaction_type: '"BUY"',
    transaction_date: '{"$date":"2024-12-20T09:12:00.000Z"}',
    ...fields,
  };
  return (
    '{' +
    Object.entries(all)
      .map(([k, v]) => `"${k}":${v}`)
      .join(',') +
    '}'
  );
};

function expectCodedError(text: string, lineNo: number, pattern: RegExp): void {
  let caught: unknown;
  try {
    viaColumns(text, lineNo);
  } catch (err) {
    caught = err;
  }
  expect(caught, text).to.be.instanceOf(ReconError);
  const e = caught as ReconError;
  expect(e.code).to.equal('RECON_LEDGER_READ');
  expect(e.message).to.contain(`line ${lineNo}`).and.match(pattern);
  expect(e.context).to.deep.include({ file: 'ledger.ndjson', record: lineNo });
}

describe('ndjson ledger lines as columns', () => {
  const units = [
    '916.253',
    '-916.253',
    '0',
    '-0',
    '0.0',
    '1e3',
    '1E3',
    '1.5e-2',
    '-2.5E+2',
    '1.23456',
    '1.23455',
    '-1.23455',
    '0.00005',
    '-0.00005',
    '0.00004999',
    '123456789012.3456',
    '12345678901.23456',
    '900719925474.0991',
    '0.12345678901234567890',
    '1234567890123456789',
    '12345678901234567890',
    '1e300',
    '-1e300',
    '5e-324',
    '"12.5"',
    '" 12.5 "',
    '"-0.00005"',
    '"1e2"',
    '"abc"',
    '""',
    'null',
    'true',
    'false',
    '[1]',
    '{"a":1}',
    '{"$numberDecimal":"1.5"}',
    '{"$numberDecimal":"-916.2530"}',
    '{"$numberDecimal":"1E+3"}',
    '{"$numberDecimal":"1.23456E-1"}',
    '{"$numberDecimal":"+1.5"}',
    '{"$numberDecimal":"00012.50"}',
    '{"$numberDecimal":"0.00005"}',
    '{"$numberDecimal":"-0"}',
    '{"$numberDecimal":"NaN"}',
    '{"$numberDecimal":"Infinity"}',
    '{"$numberDecimal":"123456789012345.6789"}',
    '{"$numberDecimal":"1234567890123456789012345678901234"}',
    '{"$numberDecimal":"1E+20"}',
    '{"$numberLong":"123"}',
    '{"$numberLong":"-9007199254740993"}',
    '{"$numberLong":"90071992547409"}',
    '{"$numberInt":"-5"}',
    '{"$numberInt":"2147483647"}',
    '{"$numberDouble":"1.5"}',
    '{"$numberDouble":"-0.0"}',
    '{"$numberDouble":"0.1"}',
    '{"$numberDouble":"Infinity"}',
    '{"$numberDouble":"-Infinity"}',
    '{"$numberDouble":"NaN"}',
    '{"$numberDouble":"1e300"}',
    '{"$numberDouble":"1.23456789e5"}',
    '{ "$numberDecimal" : "7.5" }',
  ];
  for (const u of units) {
    it(`converts units ${u} to the ten-thousandths the extended-JSON parser gives`, () => {
      const text = line({ units: u });
      expect(viaColumns(text)).to.deep.equal(viaEjson(text));
    });
  }

  const others: Record<string, string>[] = [
    { folio_no: '1014433353' },
    { folio_no: '{"$numberLong":"1014433353"}' },
    { folio_no: '{"$numberInt":"42"}' },
    { folio_no: '1.5' },
    { folio_no: '-3' },
    { folio_no: '" 42 "' },
    { folio_no: '"x\\u0041\\"q"' },
    { folio_no: 'null' },
    { folio_no: '{"n":1}' },
    { folio_no: '12345678901234567890' },
    { product_code: '"B\\u0000"' },
    { product_code: '7' },
    { product_code: 'true' },
    { transaction_type: '" sell "' },
    { transaction_type: '7' },
    { transaction_type: 'null' },
    { transaction_type: '{"$numberInt":"1"}' },
    { transaction_date: '{"$date":"2024-12-20T09:12:00Z"}' },
    { transaction_date: '{"$date":"2024-12-20T09:12:00.5Z"}' },
    { transaction_date: '{"$date":"2024-02-29T23:59:59.999Z"}' },
    { transaction_date: '{"$date":"2024-12-31T18:30:00.000Z"}' },
    { transaction_date: '{"$date":"2024-12-20T09:12:00+05:30"}' },
    { transaction_date: '{"$date":"2024-12-20T09:12:00"}' },
    { transaction_date: '{"$date":"2024-12-20"}' },
    { transaction_date: '{"$date":{"$numberLong":"1734685920000"}}' },
    { transaction_date: '{"$date":1734685920000}' },
    { transaction_date: '"2024-12-20T09:12:00Z"' },
    { transaction_date: '1734685920000' },
    { transaction_date: 'null' },
    { transaction_date: '{"$date":"garbage"}' },
    { transaction_date: '{"$date":"2023-02-29T00:00:00Z"}' },
    { transaction_date: '{"$date":"2024-12-20T24:00:00Z"}' },
    { transaction_date: '{"$date":"1969-12-31T23:59:59.999Z"}' },
    { _id: '{"$oid":"0123456789abcdef01234567"}' },
    { _id: '7' },
    { _id: 'null' },
    { scheme_name: '42' },
    { scheme_name: '"Équité \\"Growth\\""' },
    { other: '{"$binary":{"base64":"AA==","subType":"00"}}' },
    { other: '[{"$oid":"0123456789abcdef01234567"},{"a":[1,2,{"b":null}]}]' },
  ];
  for (const o of others) {
    it(`reads ${JSON.stringify(o)} as the extended-JSON parser does`, () => {
      const text = line(o);
      expect(viaColumns(text)).to.deep.equal(viaEjson(text));
    });
  }

  it('agrees with the extended-JSON parser on 20,000 generated decimals as numbers, strings and $numberDecimal', () => {
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const digits = (n: number) => Array.from({ length: n }, () => String(rand(10))).join('');
    for (let k = 0; k < 20_000; k++) {
      const int = String(Number(digits(1 + rand(12))));
      const frac = rand(3) === 0 ? '' : '.' + digits(1 + rand(9));
      const exp = rand(8) === 0 ? `e${rand(2) === 0 ? '-' : ''}${rand(6)}` : '';
      const text = `${rand(3) === 0 ? '-' : ''}${int}${frac}${exp}`;
      const form = k % 3 === 0 ? text : k % 3 === 1 ? `"${text}"` : `{"$numberDecimal":"${text}"}`;
      const l = line({ units: form });
      expect(viaColumns(l).units, form).to.equal(viaEjson(l).units);
    }
  });

  for (const [what, value] of [
    ['$oid', '{"$oid":"0123456789abcdef01234567"}'],
    ['$binary', '{"$binary":{"base64":"AA==","subType":"00"}}'],
    ['$regex', '{"$regularExpression":{"pattern":"a","options":""}}'],
    ['$timestamp', '{"$timestamp":{"t":1,"i":1}}'],
    ['$minKey', '{"$minKey":1}'],
    ['$symbol', '{"$symbol":"x"}'],
  ] as const) {
    it(`rejects ${what} in a field the ledger reads with a coded error naming the line and field`, () => {
      expectCodedError(
        line({ units: value }),
        17,
        new RegExp(`\\${what.slice(0, 4)}.* in field units`),
      );
      expectCodedError(line({ folio_no: value }), 3, /in field folio_no/);
    });
  }

  for (const bad of [
    '{"units": 1,}',
    '{"units": 1',
    '[1]',
    '{"units":1} x',
    '{units:1}',
    '{"units":01}',
    '{"units":1.}',
    '{"a":"\u0001"}',
  ]) {
    it(`rejects the malformed line ${JSON.stringify(bad)} with a coded error naming the line`, () => {
      expectCodedError(bad, 42, /not extended JSON/);
    });
  }

  it('reads a file in batches, counting blank and CRLF lines, the last line without a newline', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ndjson-columns-'));
    try {
      const lines = Array.from({ length: 25 }, (_, i) =>
        line({ _id: `"t${i}"`, units: String(i) }),
      );
      const text = lines.slice(0, 10).join('\r\n') + '\r\n\n   \n' + lines.slice(10).join('\n');
      await writeFile(join(dir, 'l.ndjson'), text);
      const seen: { id: string | null; units: number; lineNo: number }[] = [];
      for await (const cols of readLedgerColumns(join(dir, 'l.ndjson'), DEFAULT_LEDGER_FIELDS, 4)) {
        expect(cols.length).to.be.within(1, 4);
        for (let r = 0; r < cols.length; r++)
          seen.push({ id: cols.id(r), units: cols.units[r], lineNo: cols.lineNo[r] });
      }
      expect(seen.map((s) => s.id)).to.deep.equal(lines.map((_, i) => `t${i}`));
      expect(seen.map((s) => s.units)).to.deep.equal(lines.map((_, i) => i * 10_000));
      expect(seen[9].lineNo).to.equal(10);
      expect(seen[10].lineNo).to.equal(13);
      expect(seen[24].lineNo).to.equal(27);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
