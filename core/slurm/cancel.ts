import { setTimeout as sleep } from 'node:timers/promises';
import type { SlurmFolder } from './folder.ts';
import { scancel } from './scontrol.ts';
import { collectStates, finalState } from './state.ts';

/**
 * `scancel` the arrays, then wait (a few seconds at most) until their tasks have ended, so that every job
 * directory is marked interrupted — by its task, or from Slurm's state — before vidra exits.
 */
export async function cancelAndSettle(folder: SlurmFolder, arrayIds: readonly string[], nums: ReadonlySet<number>, timeoutMs = 8000): Promise<void> {
  scancel(arrayIds);
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const states = (await collectStates(folder)).filter((s) => nums.has(s.num));
    if (states.every(finalState)) return;
    await sleep(250);
  }
}
