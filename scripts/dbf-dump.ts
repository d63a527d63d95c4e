/**
 * Prints, for each DBF path given, one JSON line: the layout and every record as the engine decodes
 * them (core/dbf/records.ts), or the coded error a run would raise opening it. Records present are
 * read even when the header's count is stale (the count problem is reported beside them), so the
 * values can still be compared with another reader. Used by scripts/dbf-corpus-check.py.
 */
import { readDbfLayout } from '../core/dbf/layout.js';
import { readRecords } from '../core/dbf/records.js';
import { asReconError } from '../core/errors.js';

for (const file of process.argv.slice(2)) {
  let line: Record<string, unknown>;
  try {
    let countProblem: unknown = null;
    await readDbfLayout(file).catch((err: unknown) => {
      const e = asReconError(err);
      if (e.code !== 'RECON_DBF_COUNT') throw e;
      countProblem = e.toJSON();
    });
    const layout = await readDbfLayout(file, { recordCount: 'present' });
    line = {
      file,
      ok: true,
      countProblem,
      version: layout.version,
      versionName: layout.versionName,
      encoding: layout.encoding,
      encodingOrigin: layout.encodingOrigin,
      encodingNote: layout.encodingNote ?? null,
      declaredRecords: layout.declaredRecords,
      presentRecords: layout.presentRecords,
      fields: layout.fields,
      records: readRecords(layout, 0, layout.recordCount),
    };
  } catch (err) {
    line = { file, ok: false, error: asReconError(err).toJSON() };
  }
  process.stdout.write(JSON.stringify(line) + '\n');
}
