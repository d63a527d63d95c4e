import { ledgerRules, resolvePath } from '../../config/loaded.js';
import type { ReconConfig } from '../../config/schema.js';
import { MongoLedger } from './mongodb.js';
import { NdjsonLedger } from './ndjson.js';
import type { LedgerAdapter } from './types.js';

export function createLedger(config: ReconConfig, baseDir: string): LedgerAdapter {
  const l = config.ledger;
  if (l.type === 'ndjson')
    return new NdjsonLedger(resolvePath(baseDir, l.path), ledgerRules(config));
  return new MongoLedger({
    uri: l.uri,
    database: l.database,
    collection: l.collection,
    rules: ledgerRules(config),
    aggregation: l.aggregation,
  });
}
