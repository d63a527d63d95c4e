/** Run summaries for tests that need one without running the engine. */
import { emptyCounts } from '../../core/reconcile.js';
import type { RunSummary } from '../../core/store/types.js';

/** A committed run of CAMS that counted nothing; `over` changes any field. */
export function summaryOf(over: Partial<RunSummary> = {}): RunSummary {
  return {
    runId: 'r1',
    status: 'committed',
    startedAt: new Date(0),
    finishedAt: new Date(0),
    timezone: 'Asia/Kolkata',
    tolerance: 0.001,
    configHash: 'h',
    sourceNames: ['CAMS'],
    allSources: true,
    sources: {},
    ledger: [],
    counts: emptyCounts(),
    closedPositions: 0,
    timingsMs: {},
    error: null,
    ...over,
  };
}
