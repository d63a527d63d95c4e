/** Decode tasks as the engine plans them, for the decoder's tests. */
import type { ResolvedColumns } from '../../core/dbf/columns.js';
import type { DbfLayout } from '../../core/dbf/layout.js';
import { rangeTask, type RangeTask } from '../../core/dbf/decoder.js';

export { rangeTask };

/** The tasks that decode `file` in ranges of `size` records (the last may be shorter). */
export function rangeTasks(
  file: string,
  layout: DbfLayout,
  columns: ResolvedColumns,
  size: number,
  options: Partial<Pick<RangeTask, 'partitions' | 'chunkBytes'>> = {},
): RangeTask[] {
  const tasks: RangeTask[] = [];
  for (let start = 0; start < layout.recordCount; start += size) {
    const end = Math.min(layout.recordCount, start + size);
    tasks.push(rangeTask(file, layout, columns, { start, end, ...options }));
  }
  return tasks;
}
