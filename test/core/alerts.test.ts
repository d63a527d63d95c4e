import { expect } from 'chai';
import { alertsFor } from '../../core/alerts.js';
import type { RunSummary } from '../../core/store/types.js';
import { summaryOf } from '../../fixtures/summary.js';

const run = (breaks: Partial<NonNullable<RunSummary['breaks']>>): RunSummary =>
  summaryOf({
    breaks: { new: 0, persisting: 0, changed: 0, reopened: 0, resolved: [], ...breaks },
  });
const config = { webhook: 'http://127.0.0.1:1/hook', newBreaksThreshold: 1, timeoutSeconds: 1 };

describe('new-break alerts', () => {
  it('counts reopened breaks as news and leaves immaterial ones out', () => {
    expect(
      alertsFor(run({ new: 1, reopened: 1 }), config).map((a) => [a.kind, a.newBreaks]),
    ).to.deep.equal([['new_breaks', 2]]);
    expect(alertsFor(run({ new: 3, reopened: 1, immaterialNew: 3 }), config)).to.deep.equal([]);
    expect(
      alertsFor(run({ new: 2, immaterialNew: 0 }), config).map((a) => a.newBreaks),
    ).to.deep.equal([2]);
  });
});
