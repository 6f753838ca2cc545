/**
 * The concurrency engine of cloud discovery, apart from the registry: given probes, a fetch and
 * one deadline, run them all at once and keep the first answer (docs/ARCHITECTURE.md).
 */
import { oneLine } from "../base/errors.ts";
import { settlesWithin } from "../base/time.ts";
import type { CloudInfo, CloudProbe } from "./types.ts";

/** One probe and the metadata base URL it is pointed at. */
export interface RaceEntry {
  probe: CloudProbe;
  baseUrl: string;
}

export interface RaceOptions {
  fetch: typeof fetch;
  /** The overall deadline, a `performance.now()` value. */
  deadlineAt: number;
  /** Limit of one request. */
  requestTimeoutMs: number;
  /** Limit of one provider's whole lookup. */
  providerTimeoutMs: number;
}

export interface RaceResult {
  winner?: { probe: CloudProbe; info: CloudInfo };
  /** One short line per broken or late probe; empty when there is a winner. */
  errors: string[];
}

/**
 * Runs the probes concurrently; the first one that answers wins and the others are aborted.
 * Resolves by `deadlineAt` whatever the probes or `fetch` do.
 */
export async function race(entries: readonly RaceEntry[], opts: RaceOptions): Promise<RaceResult> {
  const { deadlineAt, providerTimeoutMs } = opts;
  const all = new AbortController();
  const errors: string[] = [];
  const pending = new Set(entries.map((e) => e.probe.id));
  let winner: RaceResult["winner"];
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));

  const runs = entries.map(async ({ probe, baseUrl }) => {
    const signal = AbortSignal.any([all.signal, AbortSignal.timeout(providerTimeoutMs)]);
    try {
      const info = await probe.lookup({
        baseUrl,
        fetch: opts.fetch,
        signal,
        requestTimeoutMs: opts.requestTimeoutMs,
      });
      if (info !== undefined && winner === undefined && !all.signal.aborted) {
        winner = { probe, info: { ...info, cloud_vendor_id: probe.id } };
      }
    } catch (err) {
      // Once `all` fires, a winner or the deadline's own line covers this probe.
      if (all.signal.aborted) return;
      if (signal.reason?.name === "TimeoutError") {
        errors.push(`${probe.id}: no complete answer within ${providerTimeoutMs} ms`);
      } else errors.push(`${probe.id}: ${oneLine(err, 160)}`);
    } finally {
      pending.delete(probe.id);
      if (winner !== undefined || pending.size === 0) finished();
    }
  });
  if (entries.length === 0) finished();

  // Abort a little before the deadline so aborted requests settle inside it; the hard stop
  // (the `settlesWithin` limits) covers a `fetch` that ignores its signal.
  const left = Math.max(0, deadlineAt - performance.now());
  const grace = Math.min(50, left / 10);
  const soft = setTimeout(() => {
    if (winner === undefined && pending.size > 0) {
      errors.push(`deadline reached; no answer yet from ${[...pending].join(", ")}`);
    }
    all.abort(new DOMException("cloud discovery deadline", "TimeoutError"));
  }, left - grace);
  try {
    await settlesWithin(done, left);
    all.abort(new DOMException("cloud discovery finished", "AbortError"));
    const rest = deadlineAt - performance.now();
    if (rest > 0) await settlesWithin(Promise.allSettled(runs), rest);
  } finally {
    clearTimeout(soft);
  }
  return winner === undefined ? { errors } : { winner, errors: [] };
}
