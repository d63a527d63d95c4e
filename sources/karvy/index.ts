/**
 * KARVY / KFintech MFSD203 (client-wise AUM). Key PRCODE + ACNO, units BALUNITS, as-of TODATE (the
 * NAV date). TRDATE is empty in real files and CRDATE is the day the file was cut (usually the next
 * morning), so neither is the as-of day. ACNO is numeric N(15,0): the folio is its integer digits.
 */
import type { SourcePlugin } from '../../core/plugin.js';

const karvy: SourcePlugin = {
  name: 'karvy',
  description: 'KARVY / KFintech MFSD203 client-wise AUM (DBF)',
  columns: {
    productCode: { name: 'PRCODE', aliases: ['PRODCODE', 'SCHEMECODE'] },
    folio: { name: 'ACNO', aliases: ['FOLIO', 'FOLIONO'] },
    units: { name: 'BALUNITS', aliases: ['UNITS'] },
    asOf: { name: 'TODATE', aliases: ['NAVDATE'] },
    schemeName: { name: 'FUNDDESC', aliases: ['SCHEME'] },
    // Pledged (lien-marked) units: a break equal to them is explained.
    pledged: { name: 'PLDG', aliases: ['PLEDGED'] },
    // NAV of the as-of day (LNAV: latest NAV): what a break is worth.
    nav: { name: 'LNAV', aliases: ['NAV'] },
  },
  dateFormats: ['dd-mm-yyyy', 'dd/mm/yyyy', 'dd-MMM-yyyy', 'yyyymmdd'],
  normalise: {
    productCode: (text) => text.toUpperCase(),
  },
};

export default karvy;
