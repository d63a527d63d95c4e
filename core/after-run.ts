/**
 * What follows a run, for `recon run` and the daemon alike: reports, then alerts. Never fails the
 * run.
 */
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import { resolvePath, type LoadedConfig } from '../config/load.js';
import { alertsFor, sendAlert } from './alerts.js';
import type { Logger } from './logger.js';
import { closeReport, loadReport } from './report/data.js';
import { writeReport, type ReportFormat } from './report/write.js';
import { createReader } from './store/reader.js';
import type { RunSummary } from './store/types.js';

export async function afterRun(
  loaded: LoadedConfig,
  run: RunSummary,
  log: Logger,
): Promise<string[]> {
  const written: string[] = [];
  const reports = loaded.config.reports;
  if (reports && run.status === 'committed') {
    try {
      const data = await loadReport(createReader(loaded.config, loaded.baseDir), {
        runId: run.runId,
      });
      try {
        const dir = resolvePath(loaded.baseDir, reports.dir);
        await mkdir(dir, { recursive: true });
        const day =
          Object.values(data.asOf)
            .filter((d): d is string => d !== null)
            .sort()
            .at(-1) ?? 'run';
        for (const format of reports.formats as ReportFormat[]) {
          const path = join(dir, `recon-${day}-${run.runId.slice(0, 8)}.${format}`);
          await writeReport(data, format, path);
          written.push(path);
        }
      } finally {
        await closeReport(data);
      }
      log.info({ reports: written }, 'reports written');
    } catch (err) {
      log.error({ err: (err as Error).message }, 'reports not written');
    }
  }
  for (const alert of alertsFor(run, loaded.config.alerts))
    await sendAlert(loaded.config.alerts, alert, log);
  return written;
}
