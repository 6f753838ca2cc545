/**
 * While the tracker flushes at exit, a signal must not kill it: a second ^C, a SIGTERM from a
 * scheduler's kill sequence or a SIGHUP from a closing terminal would otherwise end the process
 * with nothing spooled and the wrong exit code. The guard catches them and only shortens the
 * wait: deliveries in flight are cut short, and what is left goes to the spool.
 */
import { EARLY_SIGNALS } from "./early_signals.ts";

const GUARDED: readonly Deno.Signal[] = [...EARLY_SIGNALS, "SIGALRM"];

export interface FlushGuard {
  /** Aborted by the first signal during the flush: stop waiting, keep the rest. */
  readonly signal: AbortSignal;
  release(): void;
}

export function guardFlush(): FlushGuard {
  const ctl = new AbortController();
  const onSignal = () => ctl.abort();
  const held: Deno.Signal[] = [];
  for (const sig of GUARDED) {
    try {
      Deno.addSignalListener(sig, onSignal);
      held.push(sig);
    } catch { /* not supported here */ }
  }
  return {
    signal: ctl.signal,
    release: () => held.splice(0).forEach((sig) => Deno.removeSignalListener(sig, onSignal)),
  };
}
