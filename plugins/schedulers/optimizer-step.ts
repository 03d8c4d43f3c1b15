// Every schedule's factor is defined for optimizer steps k = 1, 2, … (the step the train step is about to take).

/** Throws unless `step` is an optimizer step number; `schedule` names the schedule in the error. */
export function checkOptimizerStep(schedule: string, step: number): void {
  if (!Number.isInteger(step) || step < 1) throw new RangeError(`${schedule}: the step must be an integer k >= 1, got ${step}`);
}
