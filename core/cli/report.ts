import { spawn } from 'node:child_process';
import { relative } from 'node:path';
import { UsageError } from '../config/errors.ts';

export const REPORT_USAGE = 'usage: vidra report <run or sweep dir>... [--out FILE] [--open] [--format html|md|csv]';

const HELP = `${REPORT_USAGE}

Writes one report of the given run and sweep directories: a table with one row per job (the swept overrides,
the final metrics, the error of a failed job) and, in HTML, the learning curves, the final metric against each
swept parameter and the head/middle/tail mAP. Several directories are compared in one report.

  --out FILE          where to write it ('-': standard output); default report.<format> in the one directory
                      given, or in the working directory for several
  --format html|md|csv  a self-contained HTML page (default), a Markdown table, or a flat CSV table
  --open              open the written report with the system's viewer`;

interface ReportArgs {
  dirs: string[];
  out: string | null;
  format: 'html' | 'md' | 'csv';
  open: boolean;
  help: boolean;
}

function parseReportArgs(argv: readonly string[]): ReportArgs {
  const out: ReportArgs = { dirs: [], out: null, format: 'html', open: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value (argument ${i}). ${REPORT_USAGE}`);
      return v;
    };
    if (flag === '--out' || flag === '-o') out.out = value();
    else if (flag === '--format') {
      const v = value();
      if (v !== 'html' && v !== 'md' && v !== 'csv') throw new UsageError(`--format takes html, md or csv, not '${v}'`);
      out.format = v;
    } else if (flag === '--open') out.open = true;
    else if (flag === '--help' || flag === '-h') out.help = true;
    else if (arg.startsWith('-') && arg !== '-') throw new UsageError(`unknown flag '${arg}' (argument ${i + 1}). ${REPORT_USAGE}`);
    else out.dirs.push(arg);
  }
  if (out.open && out.out === '-') throw new UsageError('--open opens a file: it does not go with --out -');
  return out;
}

/** `vidra report <dir>...`: writes the report and prints its path. */
export async function reportCommand(argv: string[]): Promise<number> {
  const args = parseReportArgs(argv);
  if (args.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  if (args.dirs.length === 0) throw new UsageError(`name at least one run or sweep directory. ${REPORT_USAGE}`);
  const { writeReport } = await import('../report/write.ts');
  const cwd = process.cwd();
  const path = writeReport(args.dirs, { format: args.format, out: args.out, cwd });
  if (path === null) return 0;
  process.stdout.write(`report: ${relative(cwd, path) || path}\n`);
  if (args.open) await openFile(path);
  return 0;
}

/** The system's viewer; a missing one is a warning (the report is written), not a failure. */
function openFile(path: string): Promise<void> {
  const [cmd, ...pre] = process.platform === 'darwin' ? ['open'] : process.platform === 'win32' ? ['cmd', '/c', 'start', '""'] : ['xdg-open'];
  return new Promise((done) => {
    const child = spawn(cmd!, [...pre, path], { detached: true, stdio: 'ignore' });
    child.once('error', (err) => {
      process.stderr.write(`vidra report: could not open the report with ${cmd} (${(err as NodeJS.ErrnoException).code ?? err.message})\n`);
      done();
    });
    child.once('spawn', () => {
      child.unref();
      done();
    });
  });
}
