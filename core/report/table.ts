// The flat table every format shares: one row per job; the source (with several), job, status, the swept
// keys, the final metrics, the error.
import type { ReportData } from './model.ts';

export interface ReportTable {
  columns: string[];
  rows: Array<Array<string | number | null>>;
}

export function reportTable(data: ReportData): ReportTable {
  const many = data.sources.length > 1;
  // Extraction runs: which videos failed and why (failed_videos.json), one `uid: reason` per line.
  const failedVideos = data.sources.some((s) => s.jobs.some((j) => j.failedVideos));
  const columns = [...(many ? ['source'] : []), 'job', 'status', ...data.params, ...data.metrics, ...(failedVideos ? ['failed_videos'] : []), 'error'];
  const rows = data.sources.flatMap((s) =>
    s.jobs.map((j) => [
      ...(many ? [s.dir] : []),
      j.num,
      j.status,
      ...data.params.map((p) => j.overrides[p] ?? null),
      ...data.metrics.map((m) => j.final[m] ?? null),
      ...(failedVideos ? [j.failedVideos?.length ? j.failedVideos.map((f) => `${f.uid}: ${f.reason}`).join('; ') : null] : []),
      j.error,
    ]),
  );
  return { columns, rows };
}
