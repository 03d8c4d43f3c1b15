import { relative } from 'node:path';
import { UsageError } from '../config/errors.ts';
import { formatSummary } from '../launch/multirun.ts';
import type { JobReturn } from '../plugins/interfaces.ts';
import { writeFileAtomic } from '../run/atomic.ts';
import { onInterrupt } from '../run/signals.ts';
import { cancelAndSettle } from '../slurm/cancel.ts';
import { SlurmFolder } from '../slurm/folder.ts';
import { collectStates, finalState, type JobState } from '../slurm/state.ts';
import { submitArray } from '../slurm/submit.ts';
import { progressLine, waitForJobs } from '../slurm/watch.ts';

const STATUS_USAGE = 'usage: vidra status <sweep dir>';
const RESUBMIT_USAGE = 'usage: vidra resubmit <sweep dir> [--failed] [--detach]';

function parse(argv: readonly string[], usage: string, flags: readonly string[]): { dir: string; flags: Set<string> } {
  const given = new Set<string>();
  const dirs: string[] = [];
  for (const [i, a] of argv.entries()) {
    if (a === '-h' || a === '--help') {
      process.stdout.write(`${usage}\n`);
      throw new HelpShown();
    }
    if (!a.startsWith('-')) dirs.push(a);
    else if (flags.includes(a)) given.add(a);
    else throw new UsageError(`unknown flag '${a}' (argument ${i + 1}); ${usage}`);
  }
  if (dirs.length !== 1) throw new UsageError(`${dirs.length === 0 ? 'no sweep directory given' : `one sweep directory, not ${dirs.length}`}; ${usage}`);
  return { dir: dirs[0]!, flags: given };
}

class HelpShown extends Error {}

/** summary.json as `vidra run -m` writes it, with the states Slurm and the tasks report now. */
function report(folder: SlurmFolder, states: readonly JobState[]): number {
  const jobs: JobReturn[] = states.map(({ reason: _reason, ...j }) => j);
  const cwd = process.cwd();
  process.stdout.write(`${formatSummary({ sweepDir: folder.sweepDir, jobs }, cwd)}\n`);
  // The latest submission refused (sbatch's reason in arrays.json): the sweep stays marked failed.
  const refused = folder.arrays().at(-1)?.error;
  const head = refused === undefined ? { sweep_dir: folder.sweepDir } : { sweep_dir: folder.sweepDir, status: 'failed', error: refused };
  if (states.every(finalState)) writeFileAtomic(`${folder.sweepDir}/summary.json`, `${JSON.stringify({ ...head, jobs }, null, 2)}\n`);
  return states.some((s) => finalState(s) && s.status !== 'completed') ? 1 : 0;
}

/** `vidra status <sweep dir>`: the progress and the table of a slurm sweep, later (after `--detach`). */
export async function statusCommand(argv: readonly string[]): Promise<number> {
  let dir: string;
  try {
    ({ dir } = parse(argv, STATUS_USAGE, []));
  } catch (err) {
    if (err instanceof HelpShown) return 0;
    throw err;
  }
  const folder = SlurmFolder.open(dir);
  const states = await collectStates(folder);
  const arrays = folder.arrays();
  const since = arrays.length ? (Date.now() - Date.parse(arrays[0]!.submitted_at)) / 1000 : null;
  const ids = arrays.flatMap((a) => (a.array_job_id === null ? [] : [a.array_job_id]));
  process.stdout.write(`${ids.length ? `array job${ids.length > 1 ? 's' : ''} ${ids.join(', ')}` : 'no array job submitted'}: ${progressLine(states, since)}\n`);
  return report(folder, states);
}

/**
 * `vidra resubmit <sweep dir> [--failed]`: submits the jobs that did not complete again, as one new
 * array, into their own run directories (status.json keeps the earlier runs in `history`).
 * `--failed`: only those that ended failed, cancelled or timed out (not those never started).
 */
export async function resubmitCommand(argv: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv, RESUBMIT_USAGE, ['--failed', '--detach']);
  } catch (err) {
    if (err instanceof HelpShown) return 0;
    throw err;
  }
  const folder = SlurmFolder.open(parsed.dir);
  const { options, environment } = folder.jobsFile();
  const states = await collectStates(folder);
  const retry = states.filter((s) => (parsed.flags.has('--failed') ? s.status === 'failed' || s.status === 'interrupted' : finalState(s) && s.status !== 'completed'));
  const where = relative(process.cwd(), folder.sweepDir) || '.';
  if (retry.length === 0) {
    process.stdout.write(`nothing to resubmit in ${where}: ${progressLine(states, null)}\n`);
    return 0;
  }
  const nums = retry.map((s) => s.num);
  const arrayId = submitArray(folder, nums, options, environment);
  const prefix = `[slurm ${arrayId}] `;
  process.stderr.write(`${prefix}resubmitted job${nums.length === 1 ? '' : 's'} ${nums.join(', ')} as array job ${arrayId}\n`);
  if (parsed.flags.has('--detach')) {
    process.stdout.write(`submitted array job ${arrayId}; sweep directory: ${where}\nfollow it with: vidra status ${where}\n`);
    return 0;
  }
  const abort = new AbortController();
  const set = new Set(nums);
  const dispose = onInterrupt(() => {
    abort.abort();
    return cancelAndSettle(folder, [arrayId], set);
  });
  try {
    const after = await waitForJobs(folder, prefix, { pollS: options.poll_interval_s, signal: abort.signal, nums: set, print: (l) => process.stderr.write(`${l}\n`) });
    return report(folder, after);
  } finally {
    dispose();
  }
}
