/**
 * JIT warm-up. At one sample per second V8 runs the sampling code as cold bytecode for minutes;
 * a few hundred throwaway collections at start let it compile that code now. Measured on the
 * 2-core VM: steady per-sample CPU 6.1 → 2.8 ms for ~0.2 s of CPU once. The throwaway sampler
 * has its own state, so the real baseline is untouched; it runs in slices of a few ms that yield
 * to the event loop so signals and deadlines are served meanwhile.
 */
import { encodeCsvRow } from "../formats/csv.ts";
import { encodeJsonLine } from "../formats/jsonl.ts";
import { ProcessTracker } from "./process_tracker.ts";
import type { Roots } from "../base/sample.ts";
import { Sampler } from "./sampler.ts";

const WARMUP_ROUNDS = 300;
/** Yield to the event loop at least this often, so a due sample is never held up for long. */
const SLICE_MS = 4;

export async function warmUp(
  roots: Roots,
  stop: AbortSignal,
  rounds = WARMUP_ROUNDS,
): Promise<void> {
  // Our own tree exercises the process-tree code with real data (read only).
  const sampler = new Sampler({
    roots,
    jobName: null,
    version: "",
    warn: () => {},
    process: new ProcessTracker("/proc", Deno.pid),
  });
  let slice = performance.now();
  for (let i = 0; i < rounds && !stop.aborted; i++) {
    const sample = sampler.collect(Date.now(), i === 0 ? undefined : 1000);
    encodeJsonLine(sample);
    encodeCsvRow(sample, 1);
    if (performance.now() - slice >= SLICE_MS) {
      await new Promise((r) => setTimeout(r, 0));
      slice = performance.now();
    }
  }
}
