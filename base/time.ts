/** Waiting without leaking timers: the one sleep and the one "settles within" of the project. */

/** Resolves after `ms`, or at once when `signal` aborts; never rejects, leaves no timer. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** True when `p` settles (either way) within `ms`; the timer is always cleared. */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Exponential back-off: `baseMs` after the first failure, doubling with each further one, never
 * more than `maxMs`. Callers add their own jitter where many clients could retry in step.
 */
export function backoff(failures: number, baseMs: number, maxMs: number): number {
  return Math.min(baseMs * 2 ** (Math.max(1, failures) - 1), maxMs);
}
