/**
 * Per-sample collection cost, in-process: `deno run -A scripts/sample_cost.ts [N] [ROUNDS]`.
 * Interleaves system-only and tracked-self samplers in rounds so machine noise hits both alike;
 * prints median / p95 µs per round and overall. Used to compare before/after a collector change.
 */
import { ProcessTracker } from "../core/process_tracker.ts";
import { DEFAULT_ROOTS } from "../core/sample.ts";
import { Sampler } from "../core/sampler.ts";

const N = Number(Deno.args[0] ?? 300);
const ROUNDS = Number(Deno.args[1] ?? 5);
const q = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))]!;
const mk = (tracked: boolean) =>
  new Sampler({
    roots: DEFAULT_ROOTS,
    jobName: null,
    version: "bench",
    warn: () => {},
    ...(tracked ? { process: new ProcessTracker("/proc", Deno.pid) } : {}),
  });
const samplers = { system: mk(false), tracked: mk(true) };
const all: Record<string, number[]> = { system: [], tracked: [] };
for (const s of Object.values(samplers)) for (let i = 0; i < 50; i++) s.collect(Date.now());
for (let r = 0; r < ROUNDS; r++) {
  const line: string[] = [];
  for (const [name, s] of Object.entries(samplers)) {
    const xs: number[] = [];
    for (let i = 0; i < N; i++) {
      const t0 = performance.now();
      s.collect(Date.now());
      xs.push((performance.now() - t0) * 1000);
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    all[name]!.push(...xs);
    line.push(`${name} ${q(xs, 0.5).toFixed(0)}/${q(xs, 0.95).toFixed(0)} µs`);
  }
  console.log(`round ${r + 1}: ${line.join("  ")}`);
}
for (const [name, xs] of Object.entries(all)) {
  console.log(`${name}: median ${q(xs, 0.5).toFixed(0)} µs, p95 ${q(xs, 0.95).toFixed(0)} µs`);
}
