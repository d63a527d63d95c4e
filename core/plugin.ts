/**
 * The source plugin contract. A plugin is plain data plus small pure functions: which columns it
 * needs, where the key and the as-of date come from, which date formats the registrar writes, and
 * how to normalise key text. It does no I/O; the engine and the workers load it by specifier.
 */
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DATE_FORMATS, type DateFormat } from './dbf/as-of-date.js';
import { ReconError } from './errors.js';

/** The roles a plugin maps to DBF columns. `productCode` + `folio` are the key. */
export const REQUIRED_ROLES = ['productCode', 'folio', 'units', 'asOf'] as const;
/** Optional columns: display, and evidence for break reasons (pledged units, the folio before a change). */
export const OPTIONAL_ROLES = ['schemeName', 'pledged', 'folioOld'] as const;
export type RequiredRole = (typeof REQUIRED_ROLES)[number];
export type Role = RequiredRole | (typeof OPTIONAL_ROLES)[number];

export interface ColumnSpec {
  /** Column name as the registrar writes it (matched case-insensitively). */
  name: string;
  /** Other names seen in real files for the same column. */
  aliases?: string[];
}

export interface SourcePlugin {
  /** Short name used in config (`plugin: cams`). */
  name: string;
  /** Who sends the file, for people. */
  description: string;
  columns: { [R in RequiredRole]: ColumnSpec } & { schemeName?: ColumnSpec; pledged?: ColumnSpec; folioOld?: ColumnSpec };
  /** Formats the as-of column may use; anything else fails the run with file and record. */
  dateFormats: DateFormat[];
  /** Pure text normalisers for the key parts, applied after trimming. */
  normalise?: {
    productCode?: (text: string) => string;
    folio?: (text: string) => string;
  };
}

const BUILT_IN: Record<string, string> = {
  cams: '../sources/cams/index.js',
  karvy: '../sources/karvy/index.js',
};

/** The plugin names that need no path or package. */
export const BUILT_IN_PLUGINS = Object.keys(BUILT_IN);

/**
 * Turns a `plugin:` value into an importable specifier: a built-in name, a path (relative to the
 * config file's folder) or a package name. The result is a plain string, so workers can load the
 * same module.
 */
export function resolvePluginSpecifier(plugin: string, baseDir: string): string {
  const builtIn = BUILT_IN[plugin];
  if (builtIn !== undefined) return new URL(builtIn, import.meta.url).href;
  if (plugin.startsWith('.') || isAbsolute(plugin)) {
    return pathToFileURL(isAbsolute(plugin) ? plugin : resolve(baseDir, plugin)).href;
  }
  return plugin;
}

const cache = new Map<string, Promise<SourcePlugin>>();

/** Imports and validates a plugin; cached per thread. */
export function loadPlugin(specifier: string): Promise<SourcePlugin> {
  let loaded = cache.get(specifier);
  if (!loaded) {
    loaded = importPlugin(specifier);
    cache.set(specifier, loaded);
    loaded.catch(() => cache.delete(specifier));
  }
  return loaded;
}

async function importPlugin(specifier: string): Promise<SourcePlugin> {
  let mod: Record<string, unknown>;
  try {
    mod = await import(specifier) as Record<string, unknown>;
  } catch (err) {
    if (!specifier.startsWith('file:') && (err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
      throw new ReconError('RECON_PLUGIN_INVALID', `plugin ${specifier} is neither a built-in plugin (${BUILT_IN_PLUGINS.join(', ')}) nor an installed package; a module path starts with ./ or /`, { plugin: specifier }, { cause: err });
    }
    throw new ReconError('RECON_PLUGIN_INVALID', `plugin ${display(specifier)} could not be imported: ${(err as Error).message}`, { plugin: display(specifier) }, { cause: err });
  }
  const candidate = mod.default ?? mod.plugin;
  validatePlugin(candidate, display(specifier));
  return candidate;
}

function display(specifier: string): string {
  return specifier.startsWith('file:') ? fileURLToPath(specifier) : specifier;
}

/** Throws RECON_PLUGIN_INVALID naming the plugin and every problem found. */
export function validatePlugin(candidate: unknown, label: string): asserts candidate is SourcePlugin {
  const problems: string[] = [];
  const p = candidate as Partial<SourcePlugin> | undefined;
  if (typeof p !== 'object' || p === null) {
    problems.push('the module has no default export (or `plugin` export) object');
  } else {
    if (typeof p.name !== 'string' || p.name.length === 0) problems.push('name must be a non-empty string');
    if (typeof p.description !== 'string') problems.push('description must be a string');
    const columns = p.columns as Record<string, unknown> | undefined;
    if (typeof columns !== 'object' || columns === null) {
      problems.push('columns must be an object');
    } else {
      for (const role of [...REQUIRED_ROLES, ...OPTIONAL_ROLES]) {
        const spec = columns[role] as ColumnSpec | undefined;
        if (spec === undefined && (OPTIONAL_ROLES as readonly string[]).includes(role)) continue;
        if (typeof spec !== 'object' || spec === null || typeof spec.name !== 'string' || spec.name.length === 0) {
          problems.push(`columns.${role}.name must be a non-empty string`);
        } else if (spec.aliases !== undefined && (!Array.isArray(spec.aliases) || spec.aliases.some((a) => typeof a !== 'string'))) {
          problems.push(`columns.${role}.aliases must be an array of strings`);
        }
      }
      for (const key of Object.keys(columns)) {
        if (![...REQUIRED_ROLES, ...OPTIONAL_ROLES].includes(key as Role)) problems.push(`columns.${key} is not a known role`);
      }
    }
    if (!Array.isArray(p.dateFormats) || p.dateFormats.length === 0) {
      problems.push(`dateFormats must list at least one of ${DATE_FORMATS.join(', ')}`);
    } else {
      for (const f of p.dateFormats) if (!DATE_FORMATS.includes(f)) problems.push(`dateFormats has unknown format "${String(f)}"`);
    }
    if (p.normalise !== undefined) {
      if (typeof p.normalise !== 'object' || p.normalise === null) problems.push('normalise must be an object');
      else for (const [k, fn] of Object.entries(p.normalise)) {
        if (k !== 'productCode' && k !== 'folio') problems.push(`normalise.${k} is not a key part (productCode, folio)`);
        else if (typeof fn !== 'function') problems.push(`normalise.${k} must be a function`);
      }
    }
  }
  if (problems.length > 0) {
    throw new ReconError('RECON_PLUGIN_INVALID', `plugin ${label} is invalid: ${problems.join('; ')}`, { plugin: label });
  }
}
