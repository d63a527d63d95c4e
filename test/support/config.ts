/** recon.config.yaml as the suites write it: common sources and stores, loaded as a run does. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig, type LoadedConfig } from '../../config/load.js';
import { DEFAULT_LEDGER_FIELDS } from '../../core/ledger/types.js';
import { mongoEnv } from './database.js';

/** The CAMS and KARVY sources reading the day's `incoming` folder (YAML list items). */
export const CAMS_SOURCE = `  - { name: CAMS, plugin: cams, fetch: { type: local, dir: ./incoming, pattern: "cams*.dbf" } }`;
export const KARVY_SOURCE = `  - { name: KARVY, plugin: karvy, fetch: { type: local, dir: ./incoming, pattern: "karvy*.dbf" } }`;

/** The offline stores: the ndjson ledger and the files store, beside the config. */
export const OFFLINE_STORES = `ledger: { type: ndjson, path: ./ledger.ndjson }
store: { type: files, dir: ./out }
`;

/** The ledger and the result store in `database` of the test server (YAML lines). */
export function mongoStores(database: string, extraLedger = ''): string {
  return `ledger: { type: mongodb, uri: "\${MONGO_URI}", database: ${database}${extraLedger} }
store: { type: mongodb, uri: "\${MONGO_URI}", database: ${database} }
`;
}

/** A MongoDB ledger and store in `database`, CAMS and KARVY sources unless `sources` is given. */
export function mongoConfigYaml(database: string, extraLedger = '', sources = ''): string {
  return `timezone: Asia/Kolkata
${mongoStores(database, `, collection: wealth_pulse_transactions${extraLedger}`)}reconcile: { tolerance: 0.001 }
sources:
${sources || `${CAMS_SOURCE}\n${KARVY_SOURCE}`}
`;
}

/**
 * Writes `yaml` as `name` (recon.config.yaml) into `dir` and loads it with MONGO_URI pointing at
 * the test server.
 */
export async function writeConfig(
  dir: string,
  yaml: string,
  name = 'recon.config.yaml',
): Promise<LoadedConfig> {
  const path = join(dir, name);
  await writeFile(path, yaml);
  return loadConfig({ path, env: mongoEnv() });
}

/** Ledger options for the scenario, whose DIVIDEND transaction is a type the ledger ignores. */
export const IGNORE_DIVIDEND = ', ignoreTypes: [DIVIDEND]';

/** The ledger rules of a default config (BUY adds, SELL takes away, nothing ignored). */
export const LEDGER_RULES = {
  fields: DEFAULT_LEDGER_FIELDS,
  typeSigns: { BUY: 1, SELL: -1 },
  ignoreTypes: [],
  ignoreUnmappedTypes: false,
};
