// Writing a report: the model of the given directories rendered in one format to one file (or stdout).
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { VidraError } from '../config/errors.ts';
import { writeFileAtomic } from '../run/atomic.ts';
import { fsReason } from '../run/run-dir.ts';
import { toHtml } from './html.ts';
import { loadReport } from './model.ts';
import { toCsv, toMarkdown } from './text-formats.ts';

export const REPORT_FORMATS = ['html', 'md', 'csv'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

const RENDER: Record<ReportFormat, typeof toHtml> = { html: toHtml, md: toMarkdown, csv: toCsv };

export interface ReportOptions {
  format: ReportFormat;
  /** The file to write; `-`: stdout; null: `report.<format>` in the one directory given, else in cwd. */
  out: string | null;
  cwd: string;
}

/** Reads `dirs`, renders, writes; returns the path written (null for stdout). Nothing is written on an error. */
export function writeReport(dirs: readonly string[], o: ReportOptions): string | null {
  const path = o.out === '-' ? null : o.out !== null ? resolve(o.cwd, o.out) : join(dirs.length === 1 ? resolve(o.cwd, dirs[0]!) : o.cwd, `report.${o.format}`);
  // Said before any reading: --out names a file, and its folder is not made.
  if (path && o.out !== null && !existsSync(dirname(path))) throw new VidraError(`cannot write the report to '${path}': the directory '${dirname(path)}' does not exist`);
  const text = RENDER[o.format](loadReport(dirs, o.cwd));
  if (path === null) {
    process.stdout.write(text);
    return null;
  }
  try {
    writeFileAtomic(path, text);
  } catch (err) {
    throw new VidraError(`cannot write the report to '${path}': ${fsReason(err as NodeJS.ErrnoException, path)}`, { cause: err });
  }
  return path;
}

/**
 * The report a sweep writes when it ends (vidra.report): report.html in the sweep directory. The jobs have
 * run by then: a report that cannot be written is a warning, not a failed sweep.
 */
export function writeSweepReport(sweepDir: string): string | null {
  try {
    return writeReport([sweepDir], { format: 'html', out: null, cwd: sweepDir });
  } catch (err) {
    process.stderr.write(`vidra: the sweep's report was not written: ${(err as Error).message}\n`);
    return null;
  }
}
