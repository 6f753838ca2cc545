/**
 * Signals that arrive while the tracker is starting (config, sinks, spawn) are held and
 * replayed once the run's own handlers exist, instead of killing the process unflushed.
 */
const pending: Deno.Signal[] = [];
const handlers = new Map<Deno.Signal, () => void>();

export const EARLY_SIGNALS: readonly Deno.Signal[] = [
  "SIGTERM",
  "SIGINT",
  "SIGHUP",
  "SIGQUIT",
  "SIGUSR1",
  "SIGUSR2",
];

export function captureEarlySignals(): void {
  for (const sig of EARLY_SIGNALS) {
    if (handlers.has(sig)) continue;
    const h = () => void pending.push(sig);
    try {
      Deno.addSignalListener(sig, h);
      handlers.set(sig, h);
    } catch { /* not supported here */ }
  }
}

/** Stops holding signals and returns those that arrived meanwhile, oldest first. */
export function releaseEarlySignals(): Deno.Signal[] {
  for (const [sig, h] of handlers) Deno.removeSignalListener(sig, h);
  handlers.clear();
  return pending.splice(0);
}
