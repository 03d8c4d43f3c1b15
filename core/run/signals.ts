// SIGINT/SIGTERM/SIGHUP: every open job and sweep records that it was interrupted, then the process exits
// (130 / 143 / 129, as shells report: 128 + the signal's number). A closed terminal (SIGHUP) stops a run as
// Ctrl-C does, so its job stays resumable. Handlers run newest first so a job is marked before its sweep's summary.

/**
 * A handler records the interruption synchronously. It may return a promise for work that finishes
 * elsewhere — the local_parallel launcher returns one for its worker processes, which mark their own
 * jobs `interrupted` — and the process exits once those settle (at most GRACE_MS later), so that
 * every run directory is final when the command's exit is seen.
 */
type Handler = (signal: NodeJS.Signals) => void | Promise<unknown>;

const GRACE_MS = 10_000;
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Whether `signal` is one that interrupts a run (rather than killing it outright, as SIGKILL does). */
export function isInterruptSignal(signal: string | null): boolean {
  return (SIGNALS as readonly string[]).includes(signal ?? '');
}
const EXIT_CODES: Record<(typeof SIGNALS)[number], number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };
const handlers: Handler[] = [];
let installed = false;
let exiting = false;

function onSignal(signal: NodeJS.Signals): void {
  const code = EXIT_CODES[signal as (typeof SIGNALS)[number]];
  // A second Ctrl-C while waiting for worker processes: stop waiting.
  if (exiting) process.exit(code);
  exiting = true;
  const pending: Array<Promise<unknown>> = [];
  for (const h of [...handlers].reverse()) {
    try {
      const p = h(signal);
      if (p) pending.push(p);
    } catch (err) {
      process.stderr.write(`error while recording the interruption: ${(err as Error).message}\n`);
    }
  }
  if (pending.length === 0) process.exit(code);
  setTimeout(() => process.exit(code), GRACE_MS);
  void Promise.allSettled(pending).then(() => process.exit(code));
}

/** Registers `handler` until the returned function is called. */
export function onInterrupt(handler: Handler): () => void {
  if (!installed) {
    for (const s of SIGNALS) process.on(s, onSignal);
    installed = true;
  }
  handlers.push(handler);
  return () => {
    const i = handlers.indexOf(handler);
    if (i >= 0) handlers.splice(i, 1);
  };
}
