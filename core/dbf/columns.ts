/**
 * Maps a plugin's column roles to the fields of one file. Real files vary in names; a plugin lists
 * aliases and config may override a name. A missing required column is an error that shows what was
 * expected and what the file has. Only the columns a source reads are judged: a memo, a field type
 * this reader does not know, an odd width or a duplicate name elsewhere in the record is no error.
 */
import { basename } from 'node:path';
import { ReconError } from '../errors.js';
import {
  OPTIONAL_COLUMNS,
  OPTIONAL_ROLES,
  REQUIRED_ROLES,
  type OptionalRole,
  type Role,
  type SourcePlugin,
} from '../plugin.js';
import type { DbfLayout, FieldLayout } from './layout.js';

// DBF types each kind of column may be: a number also as numeric text, a key also as a number.
const KIND_TYPES = { number: ['N', 'F', 'C'], key: ['C', 'N'], text: ['C'] } as const;
const ALLOWED_TYPES: Record<Role, readonly string[]> = {
  units: KIND_TYPES.number,
  productCode: KIND_TYPES.key,
  folio: KIND_TYPES.key,
  asOf: ['C', 'D'],
  ...(Object.fromEntries(
    Object.entries(OPTIONAL_COLUMNS).map(([role, c]) => [
      role,
      KIND_TYPES[c.kind] as readonly string[],
    ]),
  ) as Record<OptionalRole, readonly string[]>),
};
const MEMO_TYPES = ['M', 'G', 'P', 'B'];
const KNOWN_TYPES = [
  'C',
  'N',
  'F',
  'D',
  'L',
  'M',
  'G',
  'P',
  'B',
  'I',
  'Y',
  'T',
  '@',
  '+',
  'O',
  'V',
  'Q',
  'W',
  '0',
];
// dBase and FoxPro write numbers of at most 20 characters; a wider one follows no rule we know.
const MAX_NUMBER_WIDTH = 20;

export type ColumnOverrides = Partial<Record<Role, string>>;
export type ResolvedColumns = { [R in Exclude<Role, OptionalRole>]: FieldLayout } & {
  [R in OptionalRole]?: FieldLayout;
};

export function resolveColumns(
  layout: DbfLayout,
  plugin: SourcePlugin,
  overrides: ColumnOverrides = {},
): ResolvedColumns {
  const byName = new Map<string, FieldLayout>();
  const duplicated = new Set<string>();
  for (const f of layout.fields) {
    const key = f.name.toUpperCase();
    if (byName.has(key)) duplicated.add(key);
    else byName.set(key, f);
  }
  const missing: string[] = [];
  const out: Partial<ResolvedColumns> = {};
  const roles: Role[] = [...REQUIRED_ROLES, ...OPTIONAL_ROLES];
  for (const role of roles) {
    const spec = plugin.columns[role];
    const override = overrides[role];
    if (spec === undefined && override === undefined) continue;
    const candidates = override !== undefined ? [override] : [spec!.name, ...(spec!.aliases ?? [])];
    const found = candidates.map((c) => byName.get(c.toUpperCase())).find((f) => f !== undefined);
    if (found) out[role] = found;
    else if (!(OPTIONAL_ROLES as readonly string[]).includes(role))
      missing.push(`${role} (${candidates.join(' or ')})`);
  }
  if (missing.length > 0) {
    throw new ReconError(
      'RECON_DBF_COLUMNS',
      `${basename(layout.file)} lacks required column(s) for plugin ${plugin.name}: expected ${missing.join(', ')}; the file has ${layout.fields.map((f) => f.name).join(' ')}`,
      { file: basename(layout.file), field: missing.join(', '), plugin: plugin.name },
    );
  }
  const file = basename(layout.file);
  const refuse = (role: Role, f: FieldLayout, why: string): never => {
    throw new ReconError('RECON_DBF_COLUMNS', `${file}: column ${f.name} (${role}) ${why}`, {
      file,
      field: f.name,
      plugin: plugin.name,
      role,
    });
  };
  for (const role of roles) {
    const f = out[role];
    if (f === undefined) continue;
    if (duplicated.has(f.name.toUpperCase()))
      refuse(
        role,
        f,
        'appears more than once in the header, so which one holds the value is unknown',
      );
    const allowed = ALLOWED_TYPES[role];
    if (!allowed.includes(f.type)) {
      const what = MEMO_TYPES.includes(f.type)
        ? `is a memo field (type ${f.type}), which is never read`
        : KNOWN_TYPES.includes(f.type)
          ? `has DBF type ${f.type}`
          : `has a field type this reader does not know (${JSON.stringify(f.type)})`;
      refuse(role, f, `${what}; expected ${allowed.join(' or ')}`);
    }
    if ((f.type === 'N' || f.type === 'F') && f.size > MAX_NUMBER_WIDTH)
      refuse(
        role,
        f,
        `is a numeric field ${f.size} bytes wide; at most ${MAX_NUMBER_WIDTH} are read`,
      );
    if (f.size === 0) refuse(role, f, 'has size 0');
  }
  return out as ResolvedColumns;
}
