import { join, resolve } from 'node:path';
import type { SlurmOptions } from './options.ts';

/** A word for bash, single-quoted unless it needs no quotes. */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The `#SBATCH` lines of the options (null settings say nothing: the cluster's defaults apply). */
function sbatchLines(o: SlurmOptions, tasks: number, logDir: string): string[] {
  const flags: Array<[string, unknown]> = [
    ['job-name', o.name],
    ['array', `0-${tasks - 1}%${o.array_parallelism}`],
    ['output', join(logDir, '%A_%a.out')],
    ['error', join(logDir, '%A_%a.err')],
    // A requeued task appends to its logs instead of truncating them.
    ['open-mode', 'append'],
    ['time', o.timeout_min],
    ['nodes', o.nodes],
    ['ntasks-per-node', o.tasks_per_node],
    ['cpus-per-task', o.cpus_per_task],
    ['gpus-per-node', o.gpus_per_node],
    ['mem', o.mem_gb === null ? null : `${Math.ceil(o.mem_gb * 1024)}M`],
    ['partition', o.partition],
    ['qos', o.qos],
    ['comment', o.comment],
    ['constraint', o.constraint],
    ['exclude', o.exclude],
    ['gres', o.gres],
    ['cpus-per-gpu', o.cpus_per_gpu],
    ['gpus-per-task', o.gpus_per_task],
    ['mem-per-gpu', o.mem_per_gpu],
    ['mem-per-cpu', o.mem_per_cpu],
    ['account', o.account],
    // B: the batch shell only — which is the vidra process itself (exec below).
    ['signal', o.signal_delay_s > 0 ? `B:USR1@${o.signal_delay_s}` : null],
    ['requeue', o.max_num_timeout > 0 ? true : null],
    ...Object.entries(o.additional_parameters),
  ];
  return flags
    .filter(([, v]) => v !== null && v !== undefined && v !== false)
    .map(([k, v]) => `#SBATCH --${k.replace(/_/g, '-')}${v === true ? '' : `=${sbatchValue(String(v))}`}`);
}

/** sbatch splits `#SBATCH` lines at blanks, except inside double quotes. */
function sbatchValue(v: string): string {
  return /\s/.test(v) ? `"${v.replace(/"/g, '\\"')}"` : v;
}

export interface ScriptInput {
  options: SlurmOptions;
  tasks: number;
  logDir: string;
  cwd: string;
  /** The command each array task runs (node, the vidra CLI, its arguments). */
  command: string[];
  /** The submitting shell's variables the task must see (PATH, VIDRA_*, NODE_OPTIONS). */
  env: Record<string, string | undefined>;
}

/** Variables of the submitting shell that every task gets, whatever the cluster's --export default. */
export function carriedEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && (k === 'PATH' || k === 'NODE_OPTIONS' || k.startsWith('VIDRA_'))) out[k] = v;
  return out;
}

export function batchScript(input: ScriptInput): string {
  const exports = Object.entries(input.env)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `export ${k}=${shellQuote(v!)}`);
  return [
    '#!/bin/bash',
    ...sbatchLines(input.options, input.tasks, resolve(input.cwd, input.logDir)),
    '',
    ...exports,
    `cd ${shellQuote(input.cwd)}`,
    ...input.options.setup,
    // exec: the task is the batch shell, so Slurm's USR1 (--signal=B:...) and SIGTERM reach it directly.
    `exec ${input.command.map(shellQuote).join(' ')}`,
    '',
  ].join('\n');
}
