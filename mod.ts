/**
 * resource-tracker as a library for Deno programs: measure the calling process — CPU, memory
 * (PSS and RSS), disk I/O, and the same for every child it starts — from inside it, with the
 * CLI's own sampler, samples and summary.
 *
 * Three ways to use it:
 *
 * - **Whole program / a long stretch** — {@linkcode startTracking} … `stop()`: every sample and
 *   the summary (mode `"samples"`, the default).
 * - **Long runs in constant memory** — `startTracking({ mode: "summary" })`: only the running
 *   aggregates are kept (peaks and totals); `onSample` still sees each sample as it passes.
 * - **Boundary mode** — {@linkcode measure}`(fn)`: a summary per measured call, from a sample
 *   taken right before `fn` to one right after it settles.
 *
 * What is measured: this process (all its threads) and its descendants, as the CLI measures a
 * wrapped command's tree — children that exited and were waited for are counted through this
 * process's `cutime`/`cstime`. The sampler runs on this process's event loop, so its own cost
 * (~0.3–1 ms of CPU per sample, more for large child trees) is part of what is measured: at the
 * default 1 s interval well under 1 % of a core; at 0.1 s about 1–3 %. System-wide fields
 * (host CPU, memory, network, disks) are in every sample too.
 *
 * Nested and overlapping calls: each {@linkcode measure} / {@linkcode startTracking} has its own
 * sampler and its own window. A call nested in another is measured over its own window and is
 * also part of the outer one's. Calls that overlap in time (concurrent `async` work) each see the
 * whole process during their window — a process's CPU time and memory cannot be split between
 * promises running on the same thread — and each adds its own sampler's cost.
 *
 * A synchronous block does not let timers run, so only its two boundary samples see it: CPU
 * totals are exact (kernel counters), while peak memory is what is resident at the end of the
 * block (hold what you allocate until it returns, or yield now and then with `await`).
 *
 * Linux only (it reads /proc and /sys). Run with `--allow-all`: Deno lets a program read
 * /proc/PID/smaps_rollup (PSS) only then; with `--allow-read --allow-ffi` alone PSS reads 0 and
 * the result's `warnings` say so. GPU collection is not loaded in-process.
 *
 * @example Measure a block (boundary mode)
 * ```ts
 * import { measure } from "./mod.ts";
 *
 * const { value, summary } = await measure(async () => {
 *   const data = new Uint8Array(100 << 20).fill(1); // ~100 MiB resident
 *   return data.reduce((a, b) => a + b, 0);
 * });
 * console.log(value, summary.cpu.total_secs, summary.memory.peak_rss_mib);
 * ```
 *
 * @example Track the whole program, keeping only aggregates
 * ```ts
 * import { startTracking } from "./mod.ts";
 *
 * const tracking = startTracking({ interval: 1, mode: "summary" });
 * // … the program's work …
 * const { summary } = await tracking.stop();
 * console.error(`CPU ${summary.cpu.total_secs} s, peak PSS ${summary.memory.peak_pss_mib} MiB`);
 * ```
 *
 * @example Stream samples somewhere as they are taken
 * ```ts
 * import { startTracking } from "./mod.ts";
 *
 * const tracking = startTracking({
 *   interval: 0.5,
 *   mode: "summary",
 *   onSample: (s) => console.log(JSON.stringify(s)), // the CLI's JSON Lines
 * });
 * await new Deno.Command("make", { args: ["-j4"] }).output(); // children are counted
 * await tracking.stop();
 * ```
 *
 * @module
 */
export {
  measure,
  type RunSummary,
  type Sample,
  startTracking,
  type Tracking,
  type TrackOptions,
  type TrackResult,
} from "./core/inprocess.ts";
export { formatSummary } from "./report/summary.ts";
