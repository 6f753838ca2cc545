/**
 * What the benchmark and the soak share: the tracker started as a user starts it (the shipped
 * V8 flags, a clean environment, no cloud discovery), `/proc` readings of a process, the
 * quantile they report, and the JSON result file.
 */
import { V8_FLAGS_ARG } from "./v8_flags.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** The whole environment of every process these scripts start. */
export const ENV = {
  TRACKER_NO_CLOUD: "1",
  NO_COLOR: "1",
  PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
};

/** Starts `deno run -A <V8 flags> main.ts ...args`; stdout is discarded. */
export function spawnTracker(args: string[], stderr: "null" | "piped" = "null"): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", V8_FLAGS_ARG, MAIN, ...args],
    env: ENV,
    clearEnv: true,
    stdout: "null",
    stderr,
  }).spawn();
}

/** A kB field of `/proc/<pid>/status` (`VmRSS`, `VmHWM`), NaN when absent. */
export function statusKb(pid: number, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(
    Deno.readTextFileSync(`/proc/${pid}/status`),
  );
  return m ? Number(m[1]) : NaN;
}

/** The `q` quantile of `xs` (nearest rank, NaN when empty). */
export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}

/** Writes `value` as indented JSON to `path`, making its folder. */
export function writeJson(path: string, value: unknown): void {
  Deno.mkdirSync(path.replace(/\/[^/]*$/, "") || ".", { recursive: true });
  Deno.writeTextFileSync(path, JSON.stringify(value, null, 2) + "\n");
}
