// How a job is named in legends and tables (shared by the Node writers and the page's script, so no Node imports).
import type { ReportJob } from './model.ts';

/** Its values of the swept keys (or `job N`), after its source's name when several are compared. */
export function jobLabel(job: ReportJob, params: readonly string[], manySources: boolean): string {
  const values = params.filter((p) => p in job.overrides).map((p) => `${p}=${job.overrides[p]}`);
  const own = values.length ? values.join(' ') : `job ${job.num}`;
  return manySources ? `${job.source}: ${own}` : own;
}
