/**
 * Per-sample collection time with a tracked tree, in-process: the focused part of
 * `deno task bench` for comparing two versions of the tree accounting (issue 13).
 *
 *   deno run -A scripts/bench_tree.ts [SAMPLES] [TREE] [idle]   # 300 samples, 50 processes
 *
 * The tree is `sh` + TREE−1 `sleep`s (idle: the steady state of most tracked jobs) plus one
 * shell that forks a short-lived process every 20 ms (churn: what the exit accounting works on;
 * `idle` leaves it out).
 * Prints the median and p95 of `Sampler.collect` in ms, and the run's median of medians over
 * rounds of 50 samples (the spread says how noisy the machine was).
 */
import { ProcessTracker } from "../core/process_tracker.ts";
import { DEFAULT_ROOTS } from "../base/sample.ts";
import { Sampler } from "../core/sampler.ts";

const samples = Number(Deno.args[0] ?? 300);
const size = Number(Deno.args[1] ?? 50);
const churn = Deno.args[2] !== "idle";
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

const script = `for i in $(seq ${size - 2}); do sleep 60 & done; ` +
  (churn ? `(i=0; while [ $i -lt 3000 ]; do /bin/true; sleep 0.02; i=$((i+1)); done) & ` : "") +
  "sleep 60";
const tree = new Deno.Command("sh", { args: ["-c", script] }).spawn();
await new Promise((r) => setTimeout(r, 500));
const sampler = new Sampler({
  roots: DEFAULT_ROOTS,
  jobName: null,
  version: "bench",
  warn: () => {},
  process: new ProcessTracker("/proc", tree.pid),
});
sampler.collect(Date.now());
const times: number[] = [];
const rounds: number[] = [];
for (let i = 0; i < samples; i++) {
  await new Promise((r) => setTimeout(r, 10)); // let the tree run between samples
  const t = performance.now();
  sampler.collect(Date.now(), 10);
  times.push(performance.now() - t);
  if (times.length % 50 === 0) rounds.push(quantile(times.slice(-50), 0.5));
}
// Stop the tree: every descendant by PID, then the shell.
const kill = (pid: number): void => {
  for (const tid of Deno.readDirSync(`/proc/${pid}/task`)) {
    const kids = Deno.readTextFileSync(`/proc/${pid}/task/${tid.name}/children`).trim();
    for (const k of kids ? kids.split(" ").map(Number) : []) kill(k);
  }
  try {
    Deno.kill(pid, "SIGKILL");
  } catch { /* gone */ }
};
try {
  kill(tree.pid);
} catch { /* a process ended while we walked */ }
await tree.status;
console.log(JSON.stringify({
  samples,
  tree: size,
  churn,
  median_ms: Number(quantile(times, 0.5).toFixed(4)),
  p95_ms: Number(quantile(times, 0.95).toFixed(4)),
  round_medians_ms: rounds.map((x) => Number(x.toFixed(4))),
}));
