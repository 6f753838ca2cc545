/**
 * Per-sample collection cost, in-process, optionally A/B against another checkout:
 *
 *   git archive <commit> | tar -x -C /tmp/base        # the code to compare with
 *   deno run -A scripts/sample_cost.ts --base /tmp/base --mode system
 *   deno run -A scripts/sample_cost.ts --mode tracked --blocks 60
 *
 * Both samplers run in one process, in alternating blocks of 50 samples, so the machine's noise
 * (load from other processes, frequency changes) falls on both alike. Prints median, p25 and
 * p95 µs per sample and the new/base ratios. `tracked` follows this process's own tree.
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    base: { type: "string" },
    mode: { type: "string", default: "system" },
    blocks: { type: "string", default: "40" },
  },
});
const here = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const roots = [here, ...(values.base ? [values.base.replace(/\/$/, "")] : [])];
const tracked = values.mode === "tracked";

interface SamplerLike {
  collect(wallMs: number): unknown;
}
const samplers: SamplerLike[] = [];
for (const root of roots) {
  const { Sampler } = await import(`${root}/core/sampler.ts`);
  const { ProcessTracker } = await import(`${root}/core/process_tracker.ts`);
  samplers.push(
    new Sampler({
      roots: { proc: "/proc", sys: "/sys", root: "/" },
      jobName: null,
      version: "bench",
      warn: () => {},
      ...(tracked ? { process: new ProcessTracker("/proc", Deno.pid) } : {}),
    }),
  );
}
for (const s of samplers) for (let i = 0; i < 100; i++) s.collect(Date.now());
const times: number[][] = samplers.map(() => []);
for (let b = 0; b < Number(values.blocks); b++) {
  const order = b % 2 ? [...samplers.keys()].reverse() : [...samplers.keys()];
  for (const k of order) {
    for (let i = 0; i < 50; i++) {
      const t = performance.now();
      samplers[k]!.collect(Date.now());
      times[k]!.push((performance.now() - t) * 1000);
    }
    await new Promise((r) => setTimeout(r, 2));
  }
}
const q = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.floor(p * (xs.length - 1))]!;
const row = (name: string, xs: number[]) =>
  `${name}: median ${q(xs, 0.5).toFixed(0)} µs, p25 ${q(xs, 0.25).toFixed(0)}, p95 ${
    q(xs, 0.95).toFixed(0)
  }`;
console.log(`${values.mode}, ${times[0]!.length} samples each`);
console.log(row("this tree", times[0]!));
if (times[1]) {
  console.log(row("base     ", times[1]));
  console.log(
    `ratio this/base: median ${(q(times[0]!, 0.5) / q(times[1], 0.5)).toFixed(3)}, p25 ${
      (q(times[0]!, 0.25) / q(times[1], 0.25)).toFixed(3)
    }`,
  );
}
