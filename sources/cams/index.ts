/**
 * CAMS WBR22 ("AUM" report). Key PRODUCT + FOLIO, units UNITS, as-of ASSET_DATE (the NAV date).
 */
import type { SourcePlugin } from '../../core/plugin.js';

const cams: SourcePlugin = {
  name: 'cams',
  description: 'CAMS WBR22 client-wise AUM (DBF)',
  columns: {
    productCode: { name: 'PRODUCT', aliases: ['PRODCODE', 'PROD_CODE'] },
    folio: { name: 'FOLIO', aliases: ['FOLIO_NO', 'FOLIOCHK'] },
    units: { name: 'UNITS', aliases: ['CLOS_UNITS'] },
    asOf: { name: 'ASSET_DATE', aliases: ['NAV_DATE'] },
    schemeName: { name: 'SCHEME_NAM', aliases: ['SCHEME'] },
    // The folio before a consolidation or change: a ledger still on it is a probable key mismatch.
    folioOld: { name: 'FOLIO_OLD' },
    // NAV of the as-of day: what a break is worth.
    nav: { name: 'NAV' },
  },
  dateFormats: ['dd-mm-yyyy', 'dd/mm/yyyy', 'dd-MMM-yyyy', 'yyyymmdd'],
  normalise: {
    productCode: (text) => text.toUpperCase(),
  },
};

export default cams;
