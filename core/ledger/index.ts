import { ledgerRules, resolvePath } from '../../config/loaded.js';
import type { ReconConfig } from '../../config/schema.js';
import { MongoLedger } from './mongodb.js';
import { NdjsonLedger, type LedgerRangeRunner } from './ndjson.js';
import type { LedgerAdapter } from './types.js';

/** `ranges` reads an ndjson ledger's byte ranges on the pool's threads (else: here, as one). */
export function createLedger(
  config: ReconConfig,
  baseDir: string,
  ranges: LedgerRangeRunner | null = null,
): LedgerAdapter {
  const l = config.ledger;
  if (l.type === 'ndjson')
    return new NdjsonLedger(resolvePath(baseDir, l.path), ledgerRules(config), ranges);
  return new MongoLedger({
    uri: l.uri,
    database: l.database,
    collection: l.collection,
    rules: ledgerRules(config),
    aggregation: l.aggregation,
  });
}
