// The flat table every format shares: one row per job; the source (with several), job, status, the swept
// keys, the final metrics, the error.
import type { ReportData } from './model.ts';

export interface ReportTable {
  columns: string[];
  rows: Array<Array<string | number | null>>;
}

export function reportTable(data: ReportData): ReportTable {
  const many = data.sources.length > 1;
  const columns = [...(many ? ['source'] : []), 'job', 'status', ...data.params, ...data.metrics, 'error'];
  const rows = data.sources.flatMap((s) =>
    s.jobs.map((j) => [
      ...(many ? [s.dir] : []),
      j.num,
      j.status,
      ...data.params.map((p) => j.overrides[p] ?? null),
      ...data.metrics.map((m) => j.final[m] ?? null),
      j.error,
    ]),
  );
  return { columns, rows };
}
