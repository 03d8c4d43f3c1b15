import { UsageError } from '../config/errors.ts';
import type { SlurmOptions } from './options.ts';
import { SbatchRefused } from './scontrol.ts';

type Key = keyof SlurmOptions;

/** What sbatch's refusals name, and the settings that make those `#SBATCH` lines (first match wins). */
const TOPICS: Array<[RegExp, Key[]]> = [
  [/account/i, ['account']],
  [/partition/i, ['partition']],
  [/qos/i, ['qos']],
  [/time limit/i, ['timeout_min']],
  [/gres|generic resource|gpu/i, ['gres', 'gpus_per_node', 'gpus_per_task']],
  [/feature|constraint/i, ['constraint']],
  [/memory|--mem/i, ['mem_gb', 'mem_per_cpu', 'mem_per_gpu']],
  [/node name/i, ['exclude']],
  [/node configuration|cpu count/i, ['nodes', 'tasks_per_node', 'cpus_per_task', 'cpus_per_gpu', 'mem_gb', 'mem_per_cpu', 'constraint', 'gres', 'gpus_per_node']],
];

/** sbatch flags whose setting is not the flag's name with `_` for `-`. */
const FLAG_KEYS: Record<string, Key> = { time: 'timeout_min', mem: 'mem_gb', 'job-name': 'name', 'ntasks-per-node': 'tasks_per_node', signal: 'signal_delay_s', array: 'array_parallelism' };

const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/** `; check vidra.launcher.partition=nope`: the settings sbatch's reason points at, where it can be told. */
export function refusalHint(reason: string, options: SlurmOptions): string {
  const flag = /--([a-z][\w-]*)/i.exec(reason)?.[1];
  if (flag) {
    const extra = Object.keys(options.additional_parameters).find((k) => k.replace(/_/g, '-') === flag);
    if (extra !== undefined) return `; check vidra.launcher.additional_parameters.${extra}=${show(options.additional_parameters[extra])}`;
    const key = FLAG_KEYS[flag] ?? (flag.replace(/-/g, '_') as Key);
    if (key in options) return `; check vidra.launcher.${key}=${show(options[key])}`;
  }
  const keys = TOPICS.find(([re]) => re.test(reason))?.[1];
  if (!keys) return '';
  const set = keys.filter((k) => options[k] !== null);
  if (set.length === 0) return `; check vidra.launcher.${keys[0]} (not set: the cluster's default applies)`;
  return `; check ${set.map((k) => `vidra.launcher.${k}=${show(options[k])}`).join(' or ')}`;
}

/** Runs `submit`; sbatch's refusal becomes one error naming the settings to fix (exit 2). */
export function explainRefusal<T>(options: SlurmOptions, submit: () => T): T {
  try {
    return submit();
  } catch (err) {
    if (err instanceof SbatchRefused) throw new UsageError(`${err.message}${refusalHint(err.reason, options)}`);
    throw err;
  }
}
