// A monitored evaluation value, as Lightning's ModelCheckpoint and EarlyStopping read one: by name, with a mode
// (max: higher is better) and a minimum change that counts as an improvement.
import { VidraError } from '../../core/config/errors.ts';

export type MonitorMode = 'min' | 'max';

/** The value `monitor` names in an evaluation; an error lists the values there are. */
export function monitoredValue(values: Readonly<Record<string, unknown>> | undefined, monitor: string, who: string): number {
  const v = values?.[monitor];
  if (typeof v !== 'number') {
    const names = Object.entries(values ?? {})
      .filter(([, x]) => typeof x === 'number')
      .map(([k]) => k);
    throw new VidraError(`${who}: monitor '${monitor}' is not a value of the evaluation (it has ${names.join(', ') || 'none'}): set monitor to one of them`);
  }
  return v;
}

/** Whether `value` improves on `best` by more than `minDelta` (any value improves on none; NaN never does). */
export function improves(value: number, best: number | null, mode: MonitorMode, minDelta = 0): boolean {
  if (Number.isNaN(value)) return false;
  if (best === null) return true;
  return mode === 'max' ? value > best + minDelta : value < best - minDelta;
}
