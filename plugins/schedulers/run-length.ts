// The keys the warmup schedules share: how long the run is and how much of it warms up. `total_steps` follows
// the run (conf/scheduler: `${oc.select:task.total_steps,null}`; null is filled in by the task from the data it
// loaded), and warmup is given as steps or as a fraction, as transformers' `warmup_steps` (< 1: a ratio).

export const RUN_LENGTH_PROPERTIES = {
  warmup_steps: {
    type: 'number',
    minimum: 0,
    anyOf: [{ type: 'integer' }, { type: 'number', exclusiveMaximum: 1 }],
    default: 0,
    description: 'W: optimizer steps of linear warmup (an integer), or a fraction of total_steps (a float in [0, 1), rounded up)',
  },
  total_steps: { type: ['integer', 'null'], minimum: 0, default: null, description: "T: the run's optimizer steps (null: the task fills in its own count)" },
} as const;

/** Warmup steps from `warmup_steps`: an integer as it is; a fraction of `total` rounded up (transformers' get_warmup_steps). */
export function warmupSteps(schedule: string, warmup: number, total: number): number {
  if (Number.isInteger(warmup) && warmup >= 0) return warmup;
  if (warmup > 0 && warmup < 1) return Math.ceil(total * warmup);
  throw new RangeError(`${schedule}: warmup_steps must be an integer >= 0 or a fraction in [0, 1), got ${warmup}`);
}

/** The run length a schedule was built with; null means no task filled it in. */
export function totalSteps(schedule: string, total: number | null | undefined): number {
  if (total === null || total === undefined) {
    throw new RangeError(`${schedule}: total_steps is null and no task filled it in from the run's length (set scheduler.total_steps to the run's optimizer steps)`);
  }
  if (!Number.isInteger(total) || total < 0) throw new RangeError(`${schedule}: total_steps must be an integer >= 0, got ${total}`);
  return total;
}
