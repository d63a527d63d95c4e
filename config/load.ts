/**
 * Finds and loads recon.config.yaml (cosmiconfig, or an explicit --config path), replaces `${VAR}`
 * from the environment (a missing variable is an error naming it), validates with ajv against
 * config/schema.ts (strict: unknown keys are errors) and fills in defaults.
 */
import { createHash } from 'node:crypto';
import { dirname, isAbsolute, resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { cosmiconfig } from 'cosmiconfig';
import { Cron } from 'croner';
import { assertTimezone } from '../core/as-of-day.js';
import { ReconError } from '../core/errors.js';
import { toleranceToUnits } from '../core/fixed-point.js';
import { DEFAULT_LEDGER_FIELDS, type LedgerRules } from '../core/ledger/types.js';
import { configSchema, type ReconConfig } from './schema.js';

export interface LoadedConfig {
  config: ReconConfig;
  /** The file it came from; relative paths in it resolve against its folder. */
  filepath: string;
  baseDir: string;
}

const MODULE = 'recon';
const SEARCH_PLACES = ['recon.config.yaml', 'recon.config.yml', 'recon.config.json'];

export async function loadConfig(options: { path?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<LoadedConfig> {
  const explorer = cosmiconfig(MODULE, { searchPlaces: SEARCH_PLACES, stopDir: options.cwd });
  let found: { config: unknown; filepath: string; isEmpty?: boolean } | null;
  try {
    found = options.path ? await explorer.load(resolve(options.cwd ?? process.cwd(), options.path)) : await explorer.search(options.cwd);
  } catch (err) {
    const yaml = err as { name?: string; reason?: string; filepath?: string; mark?: { line: number; column: number; snippet?: string } };
    if (yaml.name === 'YAMLException' && yaml.mark && yaml.reason) {
      // One line that says it all, then the parser's excerpt with the position marked.
      const where = `${yaml.filepath ?? options.path} line ${yaml.mark.line + 1}, column ${yaml.mark.column + 1}`;
      throw new ReconError('RECON_CONFIG_INVALID', `YAML syntax error in ${where}: ${yaml.reason}${yaml.mark.snippet ? `\n${yaml.mark.snippet}` : ''}`,
        { file: yaml.filepath ?? options.path, line: yaml.mark.line + 1, column: yaml.mark.column + 1 }, { cause: err });
    }
    const code = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'RECON_CONFIG_NOT_FOUND' : 'RECON_CONFIG_INVALID';
    throw new ReconError(code, `cannot read config ${options.path ?? ''}: ${(err as Error).message}`.replace('  ', ' '), { file: options.path }, { cause: err });
  }
  if (!found || found.isEmpty) {
    throw new ReconError('RECON_CONFIG_NOT_FOUND', options.path ? `config ${options.path} is empty` : `no ${SEARCH_PLACES[0]} found from ${options.cwd ?? process.cwd()} (use --config PATH)`);
  }
  const config = parseConfig(found.config, found.filepath, options.env ?? process.env);
  return { config, filepath: found.filepath, baseDir: dirname(found.filepath) };
}

/** Interpolates, validates and defaults a parsed config object. */
export function parseConfig(raw: unknown, label: string, env: NodeJS.ProcessEnv): ReconConfig {
  const interpolated = interpolate(raw, env, '');
  if (!validate(interpolated)) {
    throw new ReconError('RECON_CONFIG_INVALID', `${label}: ${describeErrors(validate.errors ?? [])}`, { file: label });
  }
  const config = interpolated as ReconConfig;
  assertTimezone(config.timezone ?? 'Asia/Kolkata');
  toleranceToUnits(config.reconcile?.tolerance ?? 0.001);
  if (config.schedule) checkSchedule(config.schedule.cron, config.schedule.timezone ?? 'Asia/Kolkata', label);
  const names = new Set<string>();
  for (const s of config.sources) {
    if (names.has(s.name.toUpperCase())) throw new ReconError('RECON_CONFIG_INVALID', `${label}: source name ${s.name} appears twice`, { file: label });
    names.add(s.name.toUpperCase());
    if (s.fetch.type === 'sftp' && s.fetch.password === undefined && s.fetch.privateKeyPath === undefined) {
      throw new ReconError('RECON_CONFIG_INVALID', `${label}: sources.${s.name}.fetch needs password or privateKeyPath`, { file: label });
    }
    for (const p of s.productCodePatterns ?? []) {
      try { new RegExp(p); } catch { throw new ReconError('RECON_CONFIG_INVALID', `${label}: sources.${s.name}.productCodePatterns has an invalid regex ${p}`, { file: label }); }
    }
  }
  return config;
}

/** A bad cron pattern or zone is a config error at load (and in validate-config), not a daemon crash. */
function checkSchedule(cron: string, timezone: string, label: string): void {
  try {
    assertTimezone(timezone);
    new Cron(cron, { timezone, paused: true }).stop();
  } catch (err) {
    throw new ReconError('RECON_CONFIG_INVALID', `${label}: schedule: ${(err as Error).message}`, { file: label, key: 'schedule' });
  }
}

const ajv = new Ajv({ strict: true, allErrors: true, useDefaults: true, allowUnionTypes: true, discriminator: true });
const validate = ajv.compile(configSchema);

function describeErrors(errors: ErrorObject[]): string {
  // oneOf failures repeat every branch's complaint; keep the specific ones first.
  const lines = new Set<string>();
  for (const e of errors) {
    const at = e.instancePath === '' ? '(top level)' : e.instancePath.slice(1).replace(/\//g, '.');
    if (e.keyword === 'additionalProperties') lines.add(`${at}: unknown key "${(e.params as { additionalProperty: string }).additionalProperty}"`);
    else if (e.keyword === 'oneOf' || e.keyword === 'const' || e.keyword === 'if') continue;
    else lines.add(`${at}: ${e.message ?? e.keyword}`);
  }
  if (lines.size === 0) for (const e of errors) lines.add(`${e.instancePath || '(top level)'}: ${e.message ?? e.keyword}`);
  return [...lines].join('; ');
}

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

function interpolate(value: unknown, env: NodeJS.ProcessEnv, path: string): unknown {
  if (typeof value === 'string') {
    return value.replace(VAR, (_m, name: string) => {
      const v = env[name];
      if (v === undefined || v === '') {
        throw new ReconError('RECON_CONFIG_ENV_MISSING', `environment variable ${name} is not set (referenced by ${path || 'config'})`, { variable: name, key: path });
      }
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, `${path}[${i}]`));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env, path ? `${path}.${k}` : k)]));
  }
  return value;
}

export function resolvePath(baseDir: string, p: string): string {
  return isAbsolute(p) ? p : resolve(baseDir, p);
}

export function ledgerRules(config: ReconConfig): LedgerRules {
  return {
    fields: { ...DEFAULT_LEDGER_FIELDS, ...(config.ledger.fields ?? {}) },
    typeSigns: (config.ledger.typeSigns as Record<string, number> | undefined) ?? { BUY: 1, SELL: -1 },
    ignoreTypes: config.ledger.ignoreTypes ?? [],
    ignoreUnmappedTypes: config.ledger.ignoreUnmappedTypes ?? false,
  };
}

/** Hash of every setting that changes results (never secrets or transport). */
export function configHash(config: ReconConfig): string {
  const relevant = {
    timezone: config.timezone ?? 'Asia/Kolkata',
    tolerance: config.reconcile?.tolerance ?? 0.001,
    ledger: ledgerRules(config),
    sources: config.sources.map((s) => ({ name: s.name, plugin: s.plugin, columns: s.columns ?? {}, encoding: s.encoding ?? null, patterns: s.productCodePatterns ?? [] })),
  };
  return createHash('sha256').update(JSON.stringify(relevant)).digest('hex');
}
