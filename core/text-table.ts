/** Plain-text tables for the terminal: `recon run`'s summary and the `runs`/`breaks` listings. */

export type Cell = string | number | null;

/**
 * Lines of a table: each column padded to its widest cell, two spaces between columns, no trailing
 * space; null is empty. Columns from `rightFrom` on are right-aligned (numbers), header included.
 */
export function textTable(rows: readonly (readonly Cell[])[], rightFrom = Infinity): string[] {
  const text = rows.map((r) => r.map((c) => (c === null ? '' : String(c))));
  const widths: number[] = [];
  for (const r of text) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return text.map((r) =>
    r
      .map((c, i) => (i >= rightFrom ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd(),
  );
}
