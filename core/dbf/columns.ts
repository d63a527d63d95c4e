/**
 * Maps a plugin's column roles to the fields of one file. Real files vary in names; a plugin lists
 * aliases and config may override a name. A missing required column is an error that shows what was
 * expected and what the file has.
 */
import { basename } from 'node:path';
import { ReconError } from '../errors.js';
import { OPTIONAL_ROLES, REQUIRED_ROLES, type Role, type SourcePlugin } from '../plugin.js';
import type { DbfLayout, FieldLayout } from './layout.js';

export type ColumnOverrides = Partial<Record<Role, string>>;
type Optional = 'schemeName' | 'pledged' | 'folioOld' | 'nav';
export type ResolvedColumns = { [R in Exclude<Role, Optional>]: FieldLayout } & { [R in Optional]?: FieldLayout };

export function resolveColumns(layout: DbfLayout, plugin: SourcePlugin, overrides: ColumnOverrides = {}): ResolvedColumns {
  const byName = new Map(layout.fields.map((f) => [f.name.toUpperCase(), f]));
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
    else if (!(OPTIONAL_ROLES as readonly string[]).includes(role)) missing.push(`${role} (${candidates.join(' or ')})`);
  }
  if (missing.length > 0) {
    throw new ReconError('RECON_DBF_COLUMNS',
      `${basename(layout.file)} lacks required column(s) for plugin ${plugin.name}: expected ${missing.join(', ')}; the file has ${layout.fields.map((f) => f.name).join(' ')}`,
      { file: basename(layout.file), field: missing.join(', '), plugin: plugin.name });
  }
  for (const role of ['units', 'productCode', 'folio', 'asOf'] as const) {
    const f = out[role]!;
    const allowed = role === 'asOf' ? ['C', 'D'] : role === 'units' ? ['N', 'F', 'C'] : ['C', 'N'];
    if (!allowed.includes(f.type)) {
      throw new ReconError('RECON_DBF_COLUMNS', `${basename(layout.file)}: column ${f.name} (${role}) has DBF type ${f.type}; expected ${allowed.join(' or ')}`,
        { file: basename(layout.file), field: f.name, plugin: plugin.name });
    }
  }
  return out as ResolvedColumns;
}
