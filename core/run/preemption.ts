// SIGUSR1 (Slurm's `--signal=B:USR1@s`, sent before a time limit or a preemption): a job saves what lets it
// resume (the train task's checkpoint) at its next safe point. The slurm task takes the signal over to requeue
// once the saves are written; elsewhere the job saves and runs on. Listening also keeps Node from opening its
// inspector on USR1, as it does by default.

/** A job's pending save: resolves once written, or once the job ends without it. */
export interface PreemptionWatch {
  /** Whether a save was asked for since the last `saved()`. */
  readonly requested: boolean;
  /** Called by the job once it has written its save. */
  saved(): void;
  /** The job ends: whoever waits for its save stops waiting. */
  dispose(): void;
}

const watches = new Set<{ waiters: Array<() => void> }>();
let takeover: (() => unknown) | null = null;
let installed = false;

function install(): void {
  if (installed) return;
  process.on('SIGUSR1', () => void (takeover ? takeover() : saveForPreemption()));
  installed = true;
}

/** A job that can save before it is stopped registers here, and polls `requested` at its safe points. */
export function watchPreemption(): PreemptionWatch {
  install();
  const w = { waiters: [] as Array<() => void> };
  watches.add(w);
  const release = () => w.waiters.splice(0).forEach((r) => r());
  return {
    get requested() {
      return w.waiters.length > 0;
    },
    saved: release,
    dispose: () => {
      watches.delete(w);
      release();
    },
  };
}

/** Asks every watching job to save; resolves when each has saved or ended. */
export function saveForPreemption(): Promise<void> {
  return Promise.all([...watches].map((w) => new Promise<void>((r) => w.waiters.push(r)))).then(() => undefined);
}

/** The slurm task's USR1 handler, instead of saving and running on (it saves, then requeues). */
export function onPreemptionSignal(handler: () => unknown): void {
  install();
  takeover = handler;
}
