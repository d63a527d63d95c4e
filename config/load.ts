/**
 * Finds and loads recon.config.yaml (cosmiconfig, an explicit --config path, or $RECON_CONFIG),
 * replaces `${VAR}` from the environment (a missing variable is an error naming it), validates with
 * ajv against config/schema.ts (strict: unknown keys are errors) and fills in defaults.
 */
import { dirname, resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { cosmiconfig } from 'cosmiconfig';
import { Cron } from 'croner';
import { assertTimezone } from '../core/day-boundary.js';
import { isKnownEncoding } from '../core/dbf/code-pages.js';
import { ReconError } from '../core/errors.js';
import { materialityToPaise, toleranceToUnits } from '../core/fixed-point.js';
import {
  loadPlugin,
  pluginFromDeclaration,
  pluginLabel,
  resolvePluginSpecifier,
} from '../core/plugin.js';
import type { LoadedConfig } from './loaded.js';
import { configSchema, type ReconConfig } from './schema.js';

export type { LoadedConfig } from './loaded.js';

const MODULE = 'recon';
const SEARCH_PLACES = ['recon.config.yaml', 'recon.config.yml', 'recon.config.json'];

export async function loadConfig(
  options: { path?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<LoadedConfig> {
  const explorer = cosmiconfig(MODULE, { searchPlaces: SEARCH_PLACES, stopDir: options.cwd });
  // --config, else RECON_CONFIG (containers, Kubernetes), else search from the current folder up.
  const path = options.path ?? ((options.env ?? process.env).RECON_CONFIG || undefined);
  options = { ...options, path };
  let found: { config: unknown; filepath: string; isEmpty?: boolean } | null;
  try {
    found = path
      ? await explorer.load(resolve(options.cwd ?? process.cwd(), path))
      : await explorer.search(options.cwd);
  } catch (err) {
    const yaml = err as {
      name?: string;
      reason?: string;
      filepath?: string;
      mark?: { line: number; column: number; snippet?: string };
    };
    if (yaml.name === 'YAMLException' && yaml.mark && yaml.reason) {
      // One line that says it all, then the parser's excerpt with the position marked.
      const where = `${yaml.filepath ?? options.path} line ${yaml.mark.line + 1}, column ${yaml.mark.column + 1}`;
      throw new ReconError(
        'RECON_CONFIG_INVALID',
        `YAML syntax error in ${where}: ${yaml.reason}${yaml.mark.snippet ? `\n${yaml.mark.snippet}` : ''}`,
        {
          file: yaml.filepath ?? options.path,
          line: yaml.mark.line + 1,
          column: yaml.mark.column + 1,
        },
        { cause: err },
      );
    }
    const code =
      (err as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'RECON_CONFIG_NOT_FOUND'
        : 'RECON_CONFIG_INVALID';
    throw new ReconError(
      code,
      `cannot read config ${options.path ?? ''}: ${(err as Error).message}`.replace('  ', ' '),
      { file: options.path },
      { cause: err },
    );
  }
  if (!found || found.isEmpty) {
    throw new ReconError(
      'RECON_CONFIG_NOT_FOUND',
      options.path
        ? `config ${options.path} is empty`
        : `no ${SEARCH_PLACES[0]} found from ${options.cwd ?? process.cwd()} (use --config PATH)`,
    );
  }
  const config = parseConfig(found.config, found.filepath, options.env ?? process.env);
  return { config, filepath: found.filepath, baseDir: dirname(found.filepath) };
}

export interface ConfigCheck {
  /** `SOURCE: plugin-name` for each source, every plugin imported and validated. */
  plugins: string[];
  /** Why `recon daemon` would refuse this config, or null. */
  daemonProblem: string | null;
  /** What the daemon would do with it, for people. */
  daemonSummary: string;
}

/**
 * What load cannot check alone: every plugin loads and validates, and what the daemon needs is
 * there.
 */
export async function checkConfig(loaded: LoadedConfig): Promise<ConfigCheck> {
  const { config, filepath, baseDir } = loaded;
  const plugins: string[] = [];
  for (const s of config.sources) {
    try {
      const plugin = await loadPlugin(resolvePluginSpecifier(s.plugin, baseDir));
      plugins.push(`${s.name}: ${plugin.name}`);
    } catch (err) {
      const e = err as ReconError;
      throw new ReconError(
        e.code ?? 'RECON_PLUGIN_INVALID',
        `${filepath}: sources.${s.name}.plugin: ${e.message}`,
        { file: filepath, key: `sources.${s.name}.plugin` },
        { cause: err },
      );
    }
  }
  const { health } = config;
  const parts = [
    config.schedule ? `schedule "${config.schedule.cron}" ${config.schedule.timezone}` : '',
    health.enabled ? `health on ${health.host}:${health.port}` : 'health endpoint off',
    config.store.type === 'mongodb'
      ? 'MongoDB lease'
      : 'files store: no lease, run a single daemon',
  ];
  return {
    plugins,
    daemonProblem: config.schedule
      ? null
      : 'no schedule (add schedule: { cron: "0 30 7 * * *" }); `recon run` works without one',
    daemonSummary: parts.filter(Boolean).join('; '),
  };
}

/** Interpolates, validates and defaults a parsed config object. */
export function parseConfig(raw: unknown, label: string, env: NodeJS.ProcessEnv): ReconConfig {
  const interpolated = interpolate(raw, env, '');
  if (!validate(interpolated)) {
    throw new ReconError(
      'RECON_CONFIG_INVALID',
      `${label}: ${describeErrors(validate.errors ?? [])}`,
      { file: label },
    );
  }
  const config = interpolated as ReconConfig;
  try {
    assertTimezone(config.timezone);
  } catch {
    throw new ReconError(
      'RECON_CONFIG_INVALID',
      `${label}: timezone: "${config.timezone}" is not an IANA time zone (e.g. Asia/Kolkata)`,
      { file: label, key: 'timezone' },
    );
  }
  toleranceToUnits(config.reconcile.tolerance);
  materialityToPaise(config.reconcile.materiality);
  if (config.schedule) checkSchedule(config.schedule.cron, config.schedule.timezone, label);
  const names = new Set<string>();
  for (const s of config.sources) {
    if (names.has(s.name.toUpperCase()))
      throw new ReconError(
        'RECON_CONFIG_INVALID',
        `${label}: source name ${s.name} appears twice`,
        { file: label },
      );
    names.add(s.name.toUpperCase());
    if (
      s.fetch.type === 'sftp' &&
      s.fetch.password === undefined &&
      s.fetch.privateKeyPath === undefined
    ) {
      throw new ReconError(
        'RECON_CONFIG_INVALID',
        `${label}: sources.${s.name}.fetch needs password or privateKeyPath`,
        { file: label },
      );
    }
    if (s.encoding !== undefined && !isKnownEncoding(s.encoding)) {
      throw new ReconError(
        'RECON_CONFIG_INVALID',
        `${label}: sources.${s.name}.encoding ${JSON.stringify(s.encoding)} is not an encoding this reader can decode (e.g. cp437, cp850, cp852, cp866, cp936, cp1250, cp1252, latin1, utf8)`,
        { file: label, key: `sources.${s.name}.encoding` },
      );
    }
    // An inline plugin is checked now, by the rules a module plugin meets when it is loaded.
    if (typeof s.plugin !== 'string')
      pluginFromDeclaration(s.plugin, `${pluginLabel(s.plugin)} of source ${s.name}`);
    for (const p of s.productCodePatterns ?? []) {
      try {
        new RegExp(p);
      } catch {
        throw new ReconError(
          'RECON_CONFIG_INVALID',
          `${label}: sources.${s.name}.productCodePatterns has an invalid regex ${p}`,
          { file: label },
        );
      }
    }
  }
  return config;
}

/**
 * A bad cron pattern or zone is a config error at load (and in validate-config), not a daemon
 * crash.
 */
function checkSchedule(cron: string, timezone: string, label: string): void {
  try {
    assertTimezone(timezone);
    new Cron(cron, { timezone, paused: true }).stop();
  } catch (err) {
    throw new ReconError('RECON_CONFIG_INVALID', `${label}: schedule: ${(err as Error).message}`, {
      file: label,
      key: 'schedule',
    });
  }
}

const ajv = new Ajv({
  strict: true,
  allErrors: true,
  useDefaults: true,
  allowUnionTypes: true,
  discriminator: true,
  verbose: true,
});
const validate = ajv.compile(configSchema);

/** Edit distance (insert, delete, substitute, swap neighbours), for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The closest of `candidates` to a misspelt `word`, if close enough to be a likely typo. */
export function didYouMean(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const dist = distance(word.toLowerCase(), c.toLowerCase());
    if (dist < bestDistance) {
      best = c;
      bestDistance = dist;
    }
  }
  if (best !== undefined && bestDistance <= Math.max(1, Math.floor(word.length / 3))) return best;
  return word.length >= 3
    ? candidates.find((c) => c.toLowerCase().startsWith(word.toLowerCase()))
    : undefined;
}

function describeErrors(errors: ErrorObject[]): string {
  // oneOf failures repeat every branch's complaint; keep the specific ones first. A wrong
  // discriminator (`type`) is reported alone for that object: the branches' complaints would only
  // list the keys of types the user did not ask for.
  const wrongType = new Set(
    errors
      .filter((e) => e.keyword === 'enum' && e.instancePath.endsWith('/type'))
      .map((e) => e.instancePath.slice(0, -'/type'.length)),
  );
  const lines = new Set<string>();
  for (const e of errors) {
    const at = e.instancePath === '' ? '(top level)' : e.instancePath.slice(1).replace(/\//g, '.');
    if ([...wrongType].some((p) => e.instancePath.startsWith(p) && e.instancePath !== `${p}/type`))
      continue;
    if (e.keyword === 'additionalProperties') {
      const key = (e.params as { additionalProperty: string }).additionalProperty;
      const known = Object.keys(
        (e.parentSchema as { properties?: object } | undefined)?.properties ?? {},
      );
      const guess = didYouMean(key, known);
      lines.add(`${at}: unknown key "${key}"${guess ? ` (did you mean "${guess}"?)` : ''}`);
    } else if (e.keyword === 'enum') {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map(String);
      const guess = typeof e.data === 'string' ? didYouMean(e.data, allowed) : undefined;
      lines.add(
        `${at}: ${JSON.stringify(e.data)} is not one of ${allowed.join(', ')}${guess ? ` (did you mean "${guess}"?)` : ''}`,
      );
    } else if (
      e.keyword === 'oneOf' ||
      e.keyword === 'const' ||
      e.keyword === 'if' ||
      e.keyword === 'discriminator'
    )
      continue;
    else lines.add(`${at}: ${e.message ?? e.keyword}`);
  }
  if (lines.size === 0)
    for (const e of errors)
      lines.add(`${e.instancePath || '(top level)'}: ${e.message ?? e.keyword}`);
  return [...lines].join('; ');
}

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

function interpolate(value: unknown, env: NodeJS.ProcessEnv, path: string): unknown {
  if (typeof value === 'string') {
    return value.replace(VAR, (_m, name: string) => {
      const v = env[name];
      if (v === undefined || v === '') {
        throw new ReconError(
          'RECON_CONFIG_ENV_MISSING',
          `environment variable ${name} is not set (referenced by ${path || 'config'})`,
          { variable: name, key: path },
        );
      }
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, `${path}[${i}]`));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, interpolate(v, env, path ? `${path}.${k}` : k)]),
    );
  }
  return value;
}
