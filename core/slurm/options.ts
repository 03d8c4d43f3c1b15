/** The `vidra/launcher=slurm` settings: the keys of Hydra's submitit launcher, plus Vidra's own. */
export interface SlurmOptions {
  timeout_min: number;
  cpus_per_task: number | null;
  gpus_per_node: number | null;
  tasks_per_node: number;
  mem_gb: number | null;
  nodes: number;
  name: string;
  partition: string | null;
  qos: string | null;
  comment: string | null;
  constraint: string | null;
  exclude: string | null;
  gres: string | null;
  cpus_per_gpu: number | null;
  gpus_per_task: number | null;
  mem_per_gpu: string | null;
  mem_per_cpu: string | null;
  account: string | null;
  signal_delay_s: number;
  max_num_timeout: number;
  additional_parameters: Record<string, string | number | boolean>;
  array_parallelism: number;
  setup: string[];
  /** Where the tasks' stdout/stderr go (`%A_%a.out|err`); null: `<sweep dir>/.slurm`. */
  log_dir: string | null;
  /** false: submit and return (as `--detach`). */
  wait: boolean;
  /** Seconds between two looks at the queue while waiting. */
  poll_interval_s: number;
}

const nullable = (type: string | string[], description: string, extra: Record<string, unknown> = {}) => ({
  type: [...(Array.isArray(type) ? type : [type]), 'null'],
  default: null,
  description,
  ...extra,
});

export const SLURM_SCHEMA = {
  type: 'object',
  properties: {
    timeout_min: { type: 'integer', minimum: 1, default: 60, description: 'time limit of each task in minutes (--time)' },
    cpus_per_task: nullable('integer', 'CPUs per task (--cpus-per-task)', { minimum: 1 }),
    gpus_per_node: nullable(['integer', 'string'], 'GPUs per node (--gpus-per-node)', { minimum: 0 }),
    tasks_per_node: { type: 'integer', minimum: 1, default: 1, description: 'tasks per node (--ntasks-per-node)' },
    mem_gb: nullable('number', 'memory per node in GB (--mem)', { minimum: 0 }),
    nodes: { type: 'integer', minimum: 1, default: 1, description: 'nodes per task (--nodes)' },
    name: { type: 'string', minLength: 1, default: 'vidra', description: 'job name (--job-name)' },
    partition: nullable('string', 'partition (--partition)'),
    qos: nullable('string', 'quality of service (--qos)'),
    comment: nullable('string', 'comment (--comment)'),
    constraint: nullable('string', 'node features (--constraint)'),
    exclude: nullable('string', 'nodes to leave out (--exclude)'),
    gres: nullable('string', 'generic resources (--gres)'),
    cpus_per_gpu: nullable('integer', 'CPUs per GPU (--cpus-per-gpu)', { minimum: 1 }),
    gpus_per_task: nullable(['integer', 'string'], 'GPUs per task (--gpus-per-task)', { minimum: 0 }),
    mem_per_gpu: nullable('string', 'memory per GPU (--mem-per-gpu), e.g. 16G'),
    mem_per_cpu: nullable('string', 'memory per CPU (--mem-per-cpu), e.g. 4G'),
    account: nullable('string', 'account to charge (--account)'),
    signal_delay_s: {
      type: 'integer',
      minimum: 0,
      default: 120,
      description: 'USR1 this many seconds before the time limit (--signal=B:USR1@s): the task checkpoints and requeues itself (0: no signal)',
    },
    max_num_timeout: { type: 'integer', minimum: 0, default: 0, description: 'how many times a task that reaches its time limit or is preempted requeues itself' },
    additional_parameters: {
      type: 'object',
      additionalProperties: { type: ['string', 'number', 'boolean'] },
      default: {},
      description: 'extra #SBATCH lines, e.g. {mail-type: END}',
    },
    array_parallelism: { type: 'integer', minimum: 1, default: 256, description: 'at most this many tasks of the array run at once (the %N of --array)' },
    setup: { type: 'array', items: { type: 'string' }, default: [], description: 'shell lines run before the task (module load ..., source venv/bin/activate)' },
    log_dir: nullable('string', "folder of the tasks' %A_%a.out|err logs (default: <sweep dir>/.slurm)"),
    wait: { type: 'boolean', default: true, description: 'wait for the array and print the table (false: submit and return, as --detach)' },
    poll_interval_s: { type: 'number', exclusiveMinimum: 0, default: 2, description: 'seconds between two looks at the queue while waiting' },
  },
  additionalProperties: false,
} as const;
