import { resolvePath } from '../../config/loaded.js';
import type { ReconConfig } from '../../config/schema.js';
import { FileStore } from './files.js';
import { MongoStore } from './mongodb.js';
import type { ResultStore } from './types.js';

export function createStore(config: ReconConfig, baseDir: string): ResultStore {
  const s = config.store;
  if (s.type === 'files') return new FileStore(resolvePath(baseDir, s.dir));
  return new MongoStore({
    uri: s.uri,
    database: s.database,
    resultsCollection: s.collections.results,
    runsCollection: s.collections.runs,
    batchSize: s.batchSize,
    staleAfterMs: s.staleAfterMinutes * 60_000,
  });
}
