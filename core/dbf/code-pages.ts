/**
 * Code pages of DBF character fields. Header byte 29 (the language driver id of dBase, FoxPro and
 * Visual FoxPro) names the code page; config may override it. Text is decoded with iconv-lite,
 * whose tables cover every page a DBF can declare (Node's own TextDecoder lacks the DOS pages).
 * A single-byte page becomes a 256-entry table built once, so a name costs one lookup per byte.
 */
import iconv from 'iconv-lite';
import { unpaddedEnd, unpaddedStart } from '../field-padding.js';

interface Driver {
  codePage: string;
  label: string;
}

// Language driver id → code page (the table dBase/FoxPro documentation and dbfread share).
const DRIVERS: Record<number, Driver> = {
  0x01: { codePage: 'cp437', label: 'U.S. MS-DOS' },
  0x02: { codePage: 'cp850', label: 'International MS-DOS' },
  0x03: { codePage: 'cp1252', label: 'Windows ANSI' },
  0x04: { codePage: 'macroman', label: 'Standard Macintosh' },
  0x08: { codePage: 'cp865', label: 'Danish OEM' },
  0x09: { codePage: 'cp437', label: 'Dutch OEM' },
  0x0a: { codePage: 'cp850', label: 'Dutch OEM (secondary)' },
  0x0b: { codePage: 'cp437', label: 'Finnish OEM' },
  0x0d: { codePage: 'cp437', label: 'French OEM' },
  0x0e: { codePage: 'cp850', label: 'French OEM (secondary)' },
  0x0f: { codePage: 'cp437', label: 'German OEM' },
  0x10: { codePage: 'cp850', label: 'German OEM (secondary)' },
  0x11: { codePage: 'cp437', label: 'Italian OEM' },
  0x12: { codePage: 'cp850', label: 'Italian OEM (secondary)' },
  0x13: { codePage: 'cp932', label: 'Japanese Shift-JIS' },
  0x14: { codePage: 'cp850', label: 'Spanish OEM (secondary)' },
  0x15: { codePage: 'cp437', label: 'Swedish OEM' },
  0x16: { codePage: 'cp850', label: 'Swedish OEM (secondary)' },
  0x17: { codePage: 'cp865', label: 'Norwegian OEM' },
  0x18: { codePage: 'cp437', label: 'Spanish OEM' },
  0x19: { codePage: 'cp437', label: 'English OEM (Britain)' },
  0x1a: { codePage: 'cp850', label: 'English OEM (Britain) (secondary)' },
  0x1b: { codePage: 'cp437', label: 'English OEM (U.S.)' },
  0x1c: { codePage: 'cp863', label: 'French OEM (Canada)' },
  0x1d: { codePage: 'cp850', label: 'French OEM (secondary)' },
  0x1f: { codePage: 'cp852', label: 'Czech OEM' },
  0x22: { codePage: 'cp852', label: 'Hungarian OEM' },
  0x23: { codePage: 'cp852', label: 'Polish OEM' },
  0x24: { codePage: 'cp860', label: 'Portuguese OEM' },
  0x25: { codePage: 'cp850', label: 'Portuguese OEM (secondary)' },
  0x26: { codePage: 'cp866', label: 'Russian OEM' },
  0x37: { codePage: 'cp850', label: 'English OEM (U.S.) (secondary)' },
  0x40: { codePage: 'cp852', label: 'Romanian OEM' },
  0x4d: { codePage: 'cp936', label: 'Chinese GBK (PRC)' },
  0x4e: { codePage: 'cp949', label: 'Korean (ANSI/OEM)' },
  0x4f: { codePage: 'cp950', label: 'Chinese Big 5 (Taiwan)' },
  0x50: { codePage: 'cp874', label: 'Thai (ANSI/OEM)' },
  0x57: { codePage: 'cp1252', label: 'ANSI' },
  0x58: { codePage: 'cp1252', label: 'Western European ANSI' },
  0x59: { codePage: 'cp1252', label: 'Spanish ANSI' },
  0x64: { codePage: 'cp852', label: 'Eastern European MS-DOS' },
  0x65: { codePage: 'cp866', label: 'Russian MS-DOS' },
  0x66: { codePage: 'cp865', label: 'Nordic MS-DOS' },
  0x67: { codePage: 'cp861', label: 'Icelandic MS-DOS' },
  0x6a: { codePage: 'cp737', label: 'Greek MS-DOS (437G)' },
  0x6b: { codePage: 'cp857', label: 'Turkish MS-DOS' },
  0x6c: { codePage: 'cp863', label: 'French-Canadian MS-DOS' },
  0x78: { codePage: 'cp950', label: 'Traditional Chinese Windows' },
  0x79: { codePage: 'cp949', label: 'Korean Windows' },
  0x7a: { codePage: 'cp936', label: 'Chinese Simplified Windows' },
  0x7b: { codePage: 'cp932', label: 'Japanese Windows' },
  0x7c: { codePage: 'cp874', label: 'Thai Windows' },
  0x7d: { codePage: 'cp1255', label: 'Hebrew Windows' },
  0x7e: { codePage: 'cp1256', label: 'Arabic Windows' },
  0x86: { codePage: 'cp737', label: 'Greek OEM' },
  0x87: { codePage: 'cp852', label: 'Slovenian OEM' },
  0x88: { codePage: 'cp857', label: 'Turkish OEM' },
  0x96: { codePage: 'maccyrillic', label: 'Russian Macintosh' },
  0x97: { codePage: 'maccenteuro', label: 'Macintosh EE' },
  0x98: { codePage: 'macgreek', label: 'Greek Macintosh' },
  0xc8: { codePage: 'cp1250', label: 'Eastern European Windows' },
  0xc9: { codePage: 'cp1251', label: 'Russian Windows' },
  0xca: { codePage: 'cp1254', label: 'Turkish Windows' },
  0xcb: { codePage: 'cp1253', label: 'Greek Windows' },
  0xcc: { codePage: 'cp1257', label: 'Baltic Windows' },
};

export const FALLBACK_CODE_PAGE = 'latin1';

/** Where the code page of a file came from. */
export type CodePageOrigin = 'config' | 'language-driver' | 'fallback';

export interface CodePageChoice {
  encoding: string;
  origin: CodePageOrigin;
  /** Why the fallback was taken (an id no code page is known for), for the run document and log. */
  note?: string;
}

/**
 * The code page of a file: config's `encoding` when set, else its language driver's, else Latin-1.
 * Driver 0 means "not set" (most registrar files); Latin-1 then decodes every byte unchanged.
 */
export function chooseCodePage(languageDriver: number, configured?: string): CodePageChoice {
  if (configured !== undefined) return { encoding: configured, origin: 'config' };
  const driver = DRIVERS[languageDriver];
  if (driver !== undefined) return { encoding: driver.codePage, origin: 'language-driver' };
  if (languageDriver === 0) return { encoding: FALLBACK_CODE_PAGE, origin: 'fallback' };
  return {
    encoding: FALLBACK_CODE_PAGE,
    origin: 'fallback',
    note: `language driver 0x${languageDriver.toString(16).padStart(2, '0')} names no code page known here; decoded as ${FALLBACK_CODE_PAGE}`,
  };
}

/** The language driver's own description (for `recon inspect`). */
export function driverLabel(languageDriver: number): string | undefined {
  return DRIVERS[languageDriver]?.label;
}

/** True when text in this encoding can be decoded (config validation). */
export function isKnownEncoding(name: string): boolean {
  return iconv.encodingExists(name);
}

export type TextDecode = (buf: Buffer, start: number, end: number) => string;

const singleByteTables = new Map<string, string[] | null>();
const PAIRS = [
  [0xc3, 0xa9],
  [0xb0, 0xa1],
  [0x82, 0xa0],
  [0xa4, 0x40],
];

/**
 * A 256-entry table when the page is single-byte (every byte decodes alone to one character),
 * null for multi-byte pages (cp932, 936, 949, 950, utf-8).
 */
function singleByteTable(encoding: string): string[] | null {
  let table = singleByteTables.get(encoding);
  if (table === undefined) {
    const all = Buffer.alloc(256);
    for (let b = 0; b < 256; b++) all[b] = b;
    // A page is single-byte when no pair of high bytes makes one character (UTF-8, Shift-JIS, GBK,
    // Big5 and Korean pages all join one of these pairs).
    const multiByte = PAIRS.some(
      (pair) => [...iconv.decode(Buffer.from(pair), encoding)].length < 2,
    );
    const decoded = [...iconv.decode(all, encoding)];
    table = !multiByte && decoded.length === 256 ? decoded : null;
    singleByteTables.set(encoding, table);
  }
  return table;
}

/**
 * Raw (untrimmed) text of bytes in the encoding. ASCII bytes (nearly every key) take Latin-1's fast
 * path in every page except the few that remap ASCII; the rest go through the page's table.
 */
export function rawDecoder(encoding: string): TextDecode {
  if (isLatin1(encoding)) return (buf, s, e) => buf.toString('latin1', s, e);
  const table = singleByteTable(encoding);
  const asciiSafe =
    table !== null ? table.slice(0, 128).every((c, i) => c.charCodeAt(0) === i) : true;
  return (b, s, e) => {
    if (asciiSafe) {
      let i = s;
      while (i < e && b[i] < 0x80) i++;
      if (i === e) return b.toString('latin1', s, e);
    }
    if (table === null) return iconv.decode(b.subarray(s, e), encoding);
    let out = '';
    for (let i = s; i < e; i++) out += table[b[i]];
    return out;
  };
}

/**
 * Trimmed text of a character field (spaces and NULs both sides), in the file's code page. One
 * closure per page: it runs for every new key and scheme name in the hot loop.
 */
export function fieldTextDecoder(encoding: string): TextDecode {
  if (isLatin1(encoding)) {
    return (buf, start, end) => {
      const from = unpaddedStart(buf, start, end);
      return buf.toString('latin1', from, unpaddedEnd(buf, from, end));
    };
  }
  const raw = rawDecoder(encoding);
  return (buf, start, end) => {
    const from = unpaddedStart(buf, start, end);
    return raw(buf, from, unpaddedEnd(buf, from, end));
  };
}

function isLatin1(encoding: string): boolean {
  const enc = encoding.toLowerCase();
  return enc === 'latin1' || enc === 'iso-8859-1' || enc === 'binary';
}
