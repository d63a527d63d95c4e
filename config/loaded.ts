/**
 * A loaded config as the rest of the program takes it: the validated value with every default
 * filled in, the file it came from (relative paths resolve against its folder), the ledger rules it
 * sets and the hash of what changes results. Reading a loaded config needs nothing from core/;
 * loading one (config/load.ts) does.
 */
import { createHash } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { DEFAULTS, type LedgerFields, type ReconConfig } from './schema.js';

export interface LoadedConfig {
  config: ReconConfig;
  /** The file it came from; relative paths in it resolve against its folder. */
  filepath: string;
  baseDir: string;
}

export function resolvePath(baseDir: string, p: string): string {
  return isAbsolute(p) ? p : resolve(baseDir, p);
}

export interface LedgerRules {
  fields: LedgerFields;
  /** Transaction type → sign (+1 adds units, -1 removes them); matched case-insensitively. */
  typeSigns: Record<string, number>;
  /** Types that are not holdings movements and are skipped (counted). */
  ignoreTypes: string[];
  /** Skip every type with no sign (counted) instead of failing the run. */
  ignoreUnmappedTypes: boolean;
}

export function ledgerRules(config: ReconConfig): LedgerRules {
  const { fields, typeSigns, ignoreTypes, ignoreUnmappedTypes } = config.ledger;
  return {
    // In the schema's order, whatever the file's: the config hash depends on it.
    fields: Object.fromEntries(
      Object.keys(DEFAULTS.ledger.fields).map((k) => [k, fields[k as keyof LedgerFields]]),
    ) as LedgerFields,
    typeSigns,
    ignoreTypes,
    ignoreUnmappedTypes,
  };
}

/** Hash of every setting that changes results (never secrets or transport). */
export function configHash(config: ReconConfig): string {
  const relevant = {
    timezone: config.timezone,
    tolerance: config.reconcile.tolerance,
    materiality: config.reconcile.materiality,
    ledger: ledgerRules(config),
    sources: config.sources.map((s) => ({
      name: s.name,
      plugin: s.plugin,
      columns: s.columns ?? {},
      encoding: s.encoding ?? null,
      patterns: s.productCodePatterns ?? [],
      recordCount: s.recordCount,
    })),
  };
  return createHash('sha256').update(JSON.stringify(relevant)).digest('hex');
}
