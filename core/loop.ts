/**
 * The sampling loop: a baseline, then one sample per interval on absolute deadlines
 * (start + k × interval), so samples never drift. A stop request wakes the sleep at once.
 */
import type { Sample } from "../base/sample.ts";
import { sleep } from "../base/time.ts";

export interface Clock {
  /** Monotonic milliseconds. */
  monotonic(): number;
  /** Wall-clock Unix milliseconds (for timestamps only). */
  wall(): number;
  /** Resolves after `ms` or when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

const SYSTEM_CLOCK: Clock = {
  monotonic: () => performance.now(),
  wall: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, signal),
};

export interface LoopOptions {
  intervalMs: number;
  /** Takes a snapshot; returns the sample for the interval since the last one. */
  collect(wallMs: number, actualIntervalMs: number | undefined): Sample;
  emit(sample: Sample): void;
  stop: AbortSignal;
  clock?: Clock;
  /**
   * On stop, emit a last sample for the partial interval if it is at least this long
   * (0 = always, e.g. when a wrapped command exits).
   */
  finalMinMs?: () => number;
  /** Called after each emitted sample (e.g. to check a tracked process). */
  afterEmit?: () => void;
  /** Stop after this many samples. */
  maxSamples?: number | null;
}

export async function runLoop(o: LoopOptions): Promise<number> {
  const clock = o.clock ?? SYSTEM_CLOCK;
  const start = clock.monotonic();
  o.collect(clock.wall(), undefined); // baseline: never emitted
  let prevStart = start;
  let k = 0;
  let emitted = 0;
  for (;;) {
    k++;
    let deadline = start + k * o.intervalMs;
    const now = clock.monotonic();
    if (now > deadline + o.intervalMs) {
      // Fell behind (suspended, overloaded): skip the missed ticks instead of bursting.
      k = Math.floor((now - start) / o.intervalMs) + 1;
      deadline = start + k * o.intervalMs;
    }
    if (!o.stop.aborted) await clock.sleep(deadline - clock.monotonic(), o.stop);
    const loopStart = clock.monotonic();
    const actual = Math.round(loopStart - prevStart);
    if (o.stop.aborted) {
      const min = o.finalMinMs?.() ?? 100;
      if (actual >= min) {
        o.emit(o.collect(clock.wall(), actual));
        emitted++;
      }
      return emitted;
    }
    o.emit(o.collect(clock.wall(), actual));
    emitted++;
    prevStart = loopStart;
    o.afterEmit?.();
    if (o.maxSamples && emitted >= o.maxSamples) return emitted;
  }
}
