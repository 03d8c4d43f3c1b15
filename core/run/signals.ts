// SIGINT/SIGTERM: every open job and sweep records that it was interrupted, then the process exits
// (130 / 143, as shells report). Handlers run newest first so a job is marked before its sweep's summary.

type Handler = (signal: NodeJS.Signals) => void;

const handlers: Handler[] = [];
let installed = false;

function onSignal(signal: NodeJS.Signals): void {
  for (const h of [...handlers].reverse()) {
    try {
      h(signal);
    } catch (err) {
      process.stderr.write(`error while recording the interruption: ${(err as Error).message}\n`);
    }
  }
  process.exit(signal === 'SIGINT' ? 130 : 143);
}

/** Registers `handler` until the returned function is called. */
export function onInterrupt(handler: Handler): () => void {
  if (!installed) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    installed = true;
  }
  handlers.push(handler);
  return () => {
    const i = handlers.indexOf(handler);
    if (i >= 0) handlers.splice(i, 1);
  };
}
