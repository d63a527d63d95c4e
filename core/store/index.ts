import type { ReconConfig } from '../../config/schema.js';
import { FileStore } from './files.js';
import { MongoStore } from './mongodb.js';
import { storeTarget } from './reader.js';
import type { ResultStore } from './types.js';

export function createStore(config: ReconConfig, baseDir: string): ResultStore {
  const target = storeTarget(config, baseDir);
  if (target.type === 'files') return new FileStore(target.dir);
  const { uri, database, results, runs, batchSize, staleAfterMs } = target;
  return new MongoStore({
    uri,
    database,
    resultsCollection: results,
    runsCollection: runs,
    batchSize,
    staleAfterMs,
  });
}
