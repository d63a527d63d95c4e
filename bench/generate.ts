/**
 * Benchmark data: CAMS- and KARVY-shaped DBF files (KARVY rows about 1 KB, field widths as in real
 * MFSD203 files) and the matching ledger positions. Deterministic (seeded), so runs compare.
 *
 * Keys: each row is a new (product, folio) except every 20th, which repeats the previous key
 * (a sub-broker split); so keys cross range boundaries wherever a split row lands on one.
 */
import { DBFFile, type FieldDescriptor } from 'dbffile';
import { DbfWriter } from './dbf-writer.js';

export const KARVY_BENCH_FIELDS: FieldDescriptor[] = [
  { name: 'PRCODE', type: 'C', size: 10 },
  { name: 'FUND', type: 'C', size: 5 },
  { name: 'ACNO', type: 'N', size: 15, decimalPlaces: 0 },
  { name: 'SCHEME', type: 'C', size: 10 },
  { name: 'DIVOPT', type: 'C', size: 2 },
  { name: 'FUNDDESC', type: 'C', size: 100 },
  { name: 'BALUNITS', type: 'N', size: 18, decimalPlaces: 4 },
  { name: 'PLDG', type: 'N', size: 18, decimalPlaces: 4 },
  { name: 'TRDATE', type: 'C', size: 10 },
  { name: 'TRDESC', type: 'C', size: 40 },
  { name: 'MOH', type: 'C', size: 2 },
  { name: 'BROKCODE', type: 'C', size: 20 },
  { name: 'SBCODE', type: 'C', size: 20 },
  { name: 'POUT', type: 'C', size: 2 },
  { name: 'INV_ID', type: 'C', size: 15 },
  { name: 'INVNAME', type: 'C', size: 100 },
  { name: 'ADD1', type: 'C', size: 120 },
  { name: 'ADD2', type: 'C', size: 120 },
  { name: 'ADD3', type: 'C', size: 120 },
  { name: 'CITY', type: 'C', size: 35 },
  { name: 'INV_PIN', type: 'C', size: 10 },
  { name: 'RPHONE', type: 'C', size: 20 },
  { name: 'OPHONE', type: 'C', size: 20 },
  { name: 'FAX', type: 'C', size: 20 },
  { name: 'EMAIL', type: 'C', size: 80 },
  { name: 'VALINV', type: 'N', size: 18, decimalPlaces: 2 },
  { name: 'LNAV', type: 'N', size: 12, decimalPlaces: 4 },
  { name: 'CRDATE', type: 'C', size: 10 },
  { name: 'CRTIME', type: 'C', size: 8 },
  { name: 'TODATE', type: 'C', size: 10 },
];

export const CAMS_BENCH_FIELDS: FieldDescriptor[] = [
  { name: 'BROK_DLR_C', type: 'C', size: 20 },
  { name: 'PRODUCT', type: 'C', size: 10 },
  { name: 'ASSET_DATE', type: 'C', size: 11 },
  { name: 'FOLIO', type: 'C', size: 20 },
  { name: 'INV_NAME', type: 'C', size: 70 },
  { name: 'SCHEME_NAM', type: 'C', size: 100 },
  { name: 'CLOSING_AS', type: 'N', size: 18, decimalPlaces: 2 },
  { name: 'CITY', type: 'C', size: 35 },
  { name: 'AE_CODE', type: 'C', size: 10 },
  { name: 'TAX_STATUS', type: 'C', size: 30 },
  { name: 'UNITS', type: 'N', size: 18, decimalPlaces: 3 },
  { name: 'NAV', type: 'N', size: 12, decimalPlaces: 4 },
  { name: 'INV_IIN', type: 'C', size: 12 },
  { name: 'FOLIO_OLD', type: 'C', size: 20 },
  { name: 'SCHEME_FOL', type: 'C', size: 20 },
];

export type Shape = 'karvy' | 'cams';

export interface GeneratedFile {
  path: string;
  shape: Shape;
  rows: number;
  deleted: number;
  bytes: number;
  keys: number;
  /** Sum of all live units, ten-thousandths (the limit loop must reproduce it). */
  totalUnits: number;
}

/** The i-th row's key and units, shared by the file writer and the ledger builder. */
export function rowAt(
  shape: Shape,
  fileNo: number,
  i: number,
): { product: string; folio: string; units: number; deleted: boolean } {
  const k = i % 20 === 19 ? i - 1 : i; // every 20th row repeats the previous key
  const product = `${shape === 'karvy' ? 'K' : 'C'}${String((k * 7919 + fileNo * 13) % 600).padStart(3, '0')}`;
  const folio = String(1_000_000_000 + fileNo * 100_000_000 + k);
  const units = ((i * 2654435761) % 10_000_000_000) * (shape === 'cams' ? 10 : 1); // ten-thousandths; CAMS has 3 decimals
  return { product, folio, units, deleted: i % 97 === 96 };
}

export function generateFile(path: string, shape: Shape, rows: number, fileNo = 0): GeneratedFile {
  const fields = shape === 'karvy' ? KARVY_BENCH_FIELDS : CAMS_BENCH_FIELDS;
  const constants: Record<string, string> =
    shape === 'karvy'
      ? {
          FUND: 'KFT',
          SCHEME: 'GR',
          DIVOPT: 'G',
          TRDESC: 'Balance',
          MOH: 'SI',
          BROKCODE: 'ARN-12345',
          INVNAME: 'A Investor Name Of Typical Length',
          ADD1: '12, Some Road, Some Area',
          ADD2: 'Near Landmark',
          ADD3: 'District',
          CITY: 'Pune',
          INV_PIN: '411001',
          EMAIL: 'investor@example.com',
          CRDATE: '25/12/2024',
          CRTIME: '07:10:00',
          TODATE: '24/12/2024',
        }
      : {
          BROK_DLR_C: 'ARN-12345',
          ASSET_DATE: '24-Dec-2024',
          INV_NAME: 'A Investor Name Of Typical Length',
          CITY: 'Mumbai',
          AE_CODE: 'E1',
          TAX_STATUS: 'Individual',
        };
  const w = new DbfWriter(path, fields, rows, constants);
  const [pf, ff, uf, sf] =
    shape === 'karvy'
      ? ['PRCODE', 'ACNO', 'BALUNITS', 'FUNDDESC']
      : ['PRODUCT', 'FOLIO', 'UNITS', 'SCHEME_NAM'];
  const decimals = shape === 'karvy' ? 4 : 3;
  let deleted = 0;
  let total = 0;
  let keys = 0;
  let prevDeleted = false;
  for (let i = 0; i < rows; i++) {
    const r = rowAt(shape, fileNo, i);
    const base = w.begin(r.deleted);
    w.text(base, pf, r.product);
    if (shape === 'karvy') w.number(base, ff, r.folio);
    else w.text(base, ff, r.folio);
    w.number(base, uf, unitsText(r.units, decimals));
    w.text(base, sf, `Scheme ${r.product} Growth`);
    // Real files carry the day's NAV on every row; the break value reads it.
    w.number(
      base,
      shape === 'karvy' ? 'LNAV' : 'NAV',
      `${10 + (i % 990)}.${String(i % 10_000).padStart(4, '0')}`,
    );
    if (r.deleted) deleted++;
    else total += r.units;
    // A live row adds a key unless it repeats the previous row's key and that row was live.
    if (!r.deleted && (i % 20 !== 19 || prevDeleted)) keys++;
    prevDeleted = r.deleted;
  }
  w.close();
  return {
    path,
    shape,
    rows,
    deleted,
    bytes: w.headerLength + rows * w.recordLength + 1,
    keys,
    totalUnits: total,
  };
}

function unitsText(units: number, decimals: number): string {
  const scaled = Math.round(units / 10 ** (4 - decimals));
  const s = String(scaled).padStart(decimals + 1, '0');
  return `${s.slice(0, -decimals)}.${s.slice(-decimals)}`;
}

/** Reads the first `sample` records back with dbffile and checks them against rowAt. */
export async function proveWithDbffile(
  file: GeneratedFile,
  sample = 2000,
  fileNo = 0,
): Promise<void> {
  const dbf = await DBFFile.open(file.path, { includeDeletedRecords: true });
  if (dbf.recordCount !== file.rows)
    throw new Error(`dbffile sees ${dbf.recordCount} records, expected ${file.rows}`);
  const recs = await dbf.readRecords(sample);
  const [pf, ff, uf] =
    file.shape === 'karvy' ? ['PRCODE', 'ACNO', 'BALUNITS'] : ['PRODUCT', 'FOLIO', 'UNITS'];
  recs.forEach((rec, i) => {
    const r = rowAt(file.shape, fileNo, i);
    const units = Math.round((rec[uf] as number) * 10_000);
    if (String(rec[pf]) !== r.product || String(rec[ff]) !== r.folio || units !== r.units) {
      throw new Error(
        `record ${i + 1} reads back as ${JSON.stringify([rec[pf], rec[ff], rec[uf]])}, expected ${JSON.stringify([r.product, r.folio, r.units / 10_000])}`,
      );
    }
  });
}
