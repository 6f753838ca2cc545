import { deepStrictEqual, strictEqual } from "node:assert/strict";
import type { Clock } from "./loop.ts";
import { runLoop } from "./loop.ts";
import type { Sample } from "../base/sample.ts";

/** A virtual clock: sleeping advances time; `work` ms pass inside each collect. */
function fakeClock(work: number) {
  let now = 1000;
  const clock: Clock & { advance(ms: number): void } = {
    monotonic: () => now,
    wall: () => 1_700_000_000_000 + now,
    sleep: (ms) => {
      now += Math.max(0, ms);
      return Promise.resolve();
    },
    advance: (ms) => (now += ms),
  };
  return { clock, work };
}

function collectAt(
  c: ReturnType<typeof fakeClock>,
  starts: number[],
  intervals: (number | undefined)[],
) {
  return (_wall: number, actual: number | undefined) => {
    starts.push(c.clock.monotonic());
    intervals.push(actual);
    c.clock.advance(c.work);
    return {} as Sample;
  };
}

Deno.test("loop: absolute deadlines, no drift despite collection time", async () => {
  const c = fakeClock(37);
  const starts: number[] = [];
  const intervals: (number | undefined)[] = [];
  const n = await runLoop({
    intervalMs: 1000,
    collect: collectAt(c, starts, intervals),
    emit: () => {},
    stop: new AbortController().signal,
    clock: c.clock,
    maxSamples: 5,
  });
  strictEqual(n, 5);
  // Baseline at 1000, then exactly 2000, 3000, … — not 2037, 3074, …
  deepStrictEqual(starts, [1000, 2000, 3000, 4000, 5000, 6000]);
  deepStrictEqual(intervals, [undefined, 1000, 1000, 1000, 1000, 1000]);
});

Deno.test("loop: after a stall it skips missed ticks instead of bursting", async () => {
  const c = fakeClock(0);
  const starts: number[] = [];
  let calls = 0;
  await runLoop({
    intervalMs: 100,
    collect: (w, a) => {
      const sample = collectAt(c, starts, [])(w, a);
      if (++calls === 2) c.clock.advance(550); // the machine froze during a collection
      return sample;
    },
    emit: () => {},
    stop: new AbortController().signal,
    clock: c.clock,
    maxSamples: 3,
  });
  deepStrictEqual(starts, [1000, 1100, 1700, 1800]);
});

Deno.test("loop: stop emits a final sample for the partial interval, unless too short", async () => {
  for (const [elapsed, min, expect] of [[400, 100, 1], [50, 100, 0], [5, 0, 1]] as const) {
    const c = fakeClock(0);
    const stop = new AbortController();
    const emitted: (number | undefined)[] = [];
    const clock: Clock = {
      ...c.clock,
      sleep: (ms) => {
        // The stop arrives `elapsed` ms into the first interval.
        c.clock.advance(Math.min(ms, elapsed));
        stop.abort();
        return Promise.resolve();
      },
    };
    const n = await runLoop({
      intervalMs: 1000,
      collect: (_w, a) => ({ actual_interval_ms: a } as Sample),
      emit: (s) => emitted.push(s.actual_interval_ms),
      stop: stop.signal,
      clock,
      finalMinMs: () => min,
    });
    strictEqual(n, expect);
    if (expect) deepStrictEqual(emitted, [elapsed]);
  }
});
