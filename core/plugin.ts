/**
 * The source plugin contract. A plugin is plain data plus small pure functions: which columns it
 * needs, where the key and the as-of date come from, which date formats the registrar writes, and
 * how to normalise key text. It does no I/O; the engine and the workers load it by specifier.
 */
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DATE_FORMATS, type DateFormat } from './dbf/date-formats.js';
import { ReconError } from './errors.js';

/** The roles a plugin maps to DBF columns. `productCode` + `folio` are the key. */
export const REQUIRED_ROLES = ['productCode', 'folio', 'units', 'asOf'] as const;
/**
 * Optional columns, declared once here: display text, or evidence for break reasons. `number`
 * evidence is read like units but never fails a run: an unreadable value is counted and left
 * absent. A new evidence column is one line here plus where the engine uses it.
 */
export const OPTIONAL_COLUMNS = {
  schemeName: { kind: 'text', purpose: 'display' },
  /** Pledged (lien-marked) units: a break equal to them is explained. */
  pledged: { kind: 'number', purpose: 'evidence' },
  /** The folio before a change: a ledger still on it is a probable key mismatch. */
  folioOld: { kind: 'key', purpose: 'evidence' },
  /** The NAV of the as-of day: what a break is worth (difference × NAV). */
  nav: { kind: 'number', purpose: 'evidence' },
} as const satisfies Record<
  string,
  { kind: 'text' | 'number' | 'key'; purpose: 'display' | 'evidence' }
>;
export type OptionalRole = keyof typeof OPTIONAL_COLUMNS;
export const OPTIONAL_ROLES = Object.keys(OPTIONAL_COLUMNS) as OptionalRole[];
export type RequiredRole = (typeof REQUIRED_ROLES)[number];
export type Role = RequiredRole | OptionalRole;

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
  columns: { [R in RequiredRole]: ColumnSpec } & { [R in OptionalRole]?: ColumnSpec };
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

/** The normalisers an inline (YAML) plugin may name, applied in order to trimmed key text. */
export const NORMALISERS: Record<string, (text: string) => string> = {
  upper: (t) => t.toUpperCase(),
  lower: (t) => t.toLowerCase(),
  'strip-leading-zeros': (t) => t.replace(/^0+(?=.)/, ''),
  'remove-spaces': (t) => t.replace(/\s+/g, ''),
};

const INLINE = 'recon-inline:';

/**
 * Turns a `plugin:` value into a specifier: a built-in name, a path (relative to the config file's
 * folder) or a package name; an inline declaration becomes `recon-inline:` + its JSON. The result
 * is a plain string, so workers can load the same plugin.
 */
export function resolvePluginSpecifier(
  plugin: string | Record<string, unknown>,
  baseDir: string,
): string {
  if (typeof plugin !== 'string') return INLINE + JSON.stringify(plugin);
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
  if (specifier.startsWith(INLINE)) {
    const decl = JSON.parse(specifier.slice(INLINE.length)) as Record<string, unknown>;
    return pluginFromDeclaration(
      decl,
      `${typeof decl.name === 'string' ? decl.name : '(unnamed)'} (inline)`,
    );
  }
  let mod: Record<string, unknown>;
  try {
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (err) {
    if (
      !specifier.startsWith('file:') &&
      (err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND'
    ) {
      throw new ReconError(
        'RECON_PLUGIN_INVALID',
        `plugin ${specifier} is neither a built-in plugin (${BUILT_IN_PLUGINS.join(', ')}) nor an installed package; a module path starts with ./ or /`,
        { plugin: specifier },
        { cause: err },
      );
    }
    throw new ReconError(
      'RECON_PLUGIN_INVALID',
      `plugin ${display(specifier)} could not be imported: ${(err as Error).message}`,
      { plugin: display(specifier) },
      { cause: err },
    );
  }
  const candidate = mod.default ?? mod.plugin;
  validatePlugin(candidate, display(specifier));
  return candidate;
}

/**
 * A plugin declared in config alone: the same fields as a module plugin, with `normalise` naming
 * normalisers from NORMALISERS (one name or a list, applied in order) instead of functions.
 * Validated by the same rules; RECON_PLUGIN_INVALID names every problem.
 */
export function pluginFromDeclaration(decl: Record<string, unknown>, label: string): SourcePlugin {
  const problems: string[] = [];
  const normalise: Record<string, (text: string) => string> = {};
  const declared = decl.normalise;
  if (declared !== undefined) {
    if (typeof declared !== 'object' || declared === null || Array.isArray(declared)) {
      problems.push('normalise must be an object');
    } else {
      for (const [part, names] of Object.entries(declared as Record<string, unknown>)) {
        const list = Array.isArray(names) ? names : [names];
        const fns = list.map((n) => (typeof n === 'string' ? NORMALISERS[n] : undefined));
        if (list.length === 0 || fns.some((f) => f === undefined)) {
          problems.push(
            `normalise.${part} must name ${Object.keys(NORMALISERS).join(', ')} (or a list of them), got ${JSON.stringify(names)}`,
          );
          continue;
        }
        normalise[part] = (t) => fns.reduce((acc, f) => f!(acc), t);
      }
    }
  }
  for (const key of Object.keys(decl)) {
    if (!['name', 'description', 'columns', 'dateFormats', 'normalise'].includes(key))
      problems.push(
        `${key} is not a plugin key (name, description, columns, dateFormats, normalise)`,
      );
  }
  const candidate = {
    description: '',
    ...decl,
    normalise: declared === undefined ? undefined : normalise,
  };
  try {
    validatePlugin(candidate, label);
  } catch (err) {
    if (problems.length === 0) throw err;
    throw new ReconError(
      'RECON_PLUGIN_INVALID',
      `${(err as Error).message}; ${problems.join('; ')}`,
      { plugin: label },
    );
  }
  if (problems.length > 0)
    throw new ReconError(
      'RECON_PLUGIN_INVALID',
      `plugin ${label} is invalid: ${problems.join('; ')}`,
      { plugin: label },
    );
  return candidate;
}

/** How a source's plugin is named in the run document and messages. */
export function pluginLabel(plugin: string | Record<string, unknown>): string {
  return typeof plugin === 'string'
    ? plugin
    : `${typeof plugin.name === 'string' ? plugin.name : '(unnamed)'} (inline)`;
}

function display(specifier: string): string {
  return specifier.startsWith('file:') ? fileURLToPath(specifier) : specifier;
}

/** Throws RECON_PLUGIN_INVALID naming the plugin and every problem found. */
export function validatePlugin(
  candidate: unknown,
  label: string,
): asserts candidate is SourcePlugin {
  const problems: string[] = [];
  const p = candidate as Partial<SourcePlugin> | undefined;
  if (typeof p !== 'object' || p === null) {
    problems.push('the module has no default export (or `plugin` export) object');
  } else {
    if (typeof p.name !== 'string' || p.name.length === 0)
      problems.push('name must be a non-empty string');
    if (typeof p.description !== 'string') problems.push('description must be a string');
    const columns = p.columns as Record<string, unknown> | undefined;
    if (typeof columns !== 'object' || columns === null) {
      problems.push('columns must be an object');
    } else {
      for (const role of [...REQUIRED_ROLES, ...OPTIONAL_ROLES]) {
        const spec = columns[role] as ColumnSpec | undefined;
        if (spec === undefined && (OPTIONAL_ROLES as readonly string[]).includes(role)) continue;
        if (
          typeof spec !== 'object' ||
          spec === null ||
          typeof spec.name !== 'string' ||
          spec.name.length === 0
        ) {
          problems.push(`columns.${role}.name must be a non-empty string`);
        } else if (
          spec.aliases !== undefined &&
          (!Array.isArray(spec.aliases) || spec.aliases.some((a) => typeof a !== 'string'))
        ) {
          problems.push(`columns.${role}.aliases must be an array of strings`);
        }
      }
      for (const key of Object.keys(columns)) {
        if (![...REQUIRED_ROLES, ...OPTIONAL_ROLES].includes(key as Role))
          problems.push(`columns.${key} is not a known role`);
      }
    }
    if (!Array.isArray(p.dateFormats) || p.dateFormats.length === 0) {
      problems.push(`dateFormats must list at least one of ${DATE_FORMATS.join(', ')}`);
    } else {
      for (const f of p.dateFormats)
        if (!DATE_FORMATS.includes(f))
          problems.push(`dateFormats has unknown format "${String(f)}"`);
    }
    if (p.normalise !== undefined) {
      if (typeof p.normalise !== 'object' || p.normalise === null)
        problems.push('normalise must be an object');
      else
        for (const [k, fn] of Object.entries(p.normalise)) {
          if (k !== 'productCode' && k !== 'folio')
            problems.push(`normalise.${k} is not a key part (productCode, folio)`);
          else if (typeof fn !== 'function') problems.push(`normalise.${k} must be a function`);
        }
    }
  }
  if (problems.length > 0) {
    throw new ReconError(
      'RECON_PLUGIN_INVALID',
      `plugin ${label} is invalid: ${problems.join('; ')}`,
      { plugin: label },
    );
  }
}
