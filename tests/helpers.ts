/**
 * Spawns the real entry point the way a user would, with a clean, predictable environment.
 * Every run's JSON samples and summary are checked against tests/invariants.ts.
 */
import { ok, strictEqual } from "node:assert/strict";
import type { Sample } from "../base/sample.ts";
import { V8_FLAGS_ARG } from "../scripts/v8_flags.ts";
import { assertInvariants } from "./invariants.ts";
export const MAIN = new URL("../main.ts", import.meta.url).pathname;
export const FIXTURES = new URL("./fixtures", import.meta.url).pathname;

export interface CliResult {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
}

/** The parent environment without anything that would change what the user sees. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    // DENO_DIR stays: it is where Deno's cache (npm packages included) is, and without the
    // network a child Deno could not load what is not in it; so do the TLS settings a child
    // needs to fill that cache behind a TLS-inspecting proxy.
    if (/^(TRACKER_|SENTINEL_|AWS_|RUST_BACKTRACE$|DENO_(?!DIR$|CERT$|TLS_CA_STORE$))/.test(k)) {
      continue;
    }
    env[k] = v;
  }
  // No test sends packets beyond loopback: cloud discovery stays off unless a test overrides it.
  return { ...env, NO_COLOR: "1", TRACKER_NO_CLOUD: "1", ...extra };
}

export interface RunOptions {
  env?: Record<string, string>;
  cwd?: string;
  stdin?: "null" | "piped";
  /** false: do not check the invariants (runs that feed the tracker broken input on purpose). */
  invariants?: boolean;
}

/** The value of a tracker flag (before `--`), in `-o X`, `--output X` or `--output=X` form. */
function flagValue(args: string[], names: string[]): string | undefined {
  const end = args.indexOf("--");
  const own = end < 0 ? args : args.slice(0, end);
  let value: string | undefined;
  own.forEach((a, i) => {
    for (const n of names) {
      if (a === n) value = own[i + 1];
      else if (a.startsWith(`${n}=`)) value = a.slice(n.length + 1);
    }
  });
  return value;
}

/** Samples in a JSON Lines text; other lines (a wrapped command's output) are skipped. */
function sampleLines(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith('{"timestamp_secs"')) continue;
    try {
      out.push(JSON.parse(line));
    } catch { /* a torn line: not ours to judge here */ }
  }
  return out;
}

/** Reads what a finished run wrote (JSON samples, summary) and checks the invariants. */
function checkRun(args: string[], o: RunOptions, stdout: string): void {
  if (o.invariants === false) return;
  const format = flagValue(args, ["-f", "--format"]) ?? o.env?.TRACKER_FORMAT;
  if (format === "csv") return;
  const at = (p: string) => (p.startsWith("/") || !o.cwd ? p : `${o.cwd}/${p}`);
  const read = (p: string) => {
    try {
      // Regular files only: a FIFO or device given to -o would block the reader.
      if (!Deno.lstatSync(at(p)).isFile) return "";
      return Deno.readTextFileSync(at(p));
    } catch {
      return "";
    }
  };
  const output = flagValue(args, ["-o", "--output"]);
  const text = output === undefined || output === "-" ? stdout : read(output);
  const summaryPath = flagValue(args, ["--summary-json"]);
  const summaryText = summaryPath ? read(summaryPath) : "";
  let summary: unknown;
  try {
    summary = summaryText ? JSON.parse(summaryText) : undefined;
  } catch { /* not written */ }
  assertInvariants(sampleLines(text), summary, args.join(" "));
}

/** The argv that starts the CLI as it ships (its V8 flags), for wrappers such as `unshare`. */
export const CLI_ARGV: readonly string[] = [
  Deno.execPath(),
  "run",
  "--allow-all",
  V8_FLAGS_ARG,
  "--quiet",
  MAIN,
];

export function command(args: string[], o: RunOptions = {}): Deno.Command {
  return new Deno.Command(CLI_ARGV[0]!, {
    args: [...CLI_ARGV.slice(1), ...args],
    env: cleanEnv(o.env),
    clearEnv: true,
    ...(o.cwd ? { cwd: o.cwd } : {}),
    stdin: o.stdin ?? "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** Decodes a finished run's output and checks its invariants. */
function finished(args: string[], o: RunOptions, out: Deno.CommandOutput): CliResult {
  const dec = new TextDecoder();
  const r = {
    code: out.code,
    signal: out.signal,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
  checkRun(args, o, r.stdout);
  return r;
}

export async function runCli(args: string[], o: RunOptions = {}): Promise<CliResult> {
  return finished(args, o, await command(args, o).output());
}

/** Starts the CLI; resolves its output once it exits. */
export function spawnCli(args: string[], o: RunOptions = {}) {
  const child = command(args, o).spawn();
  const output = child.output().then((out) => finished(args, o, out));
  return { child, output };
}

/** Options that write the samples to `<dir>/samples.jsonl` and the summary to `<dir>/summary.json`. */
export function outputsIn(dir: string): string[] {
  return ["-o", `${dir}/samples.jsonl`, "--summary-json", `${dir}/summary.json`];
}

/** The JSON summary of a run given `outputsIn(dir)` (untyped, as `JSON.parse` gives it). */
// deno-lint-ignore no-explicit-any
export function summaryIn(dir: string): any {
  return JSON.parse(Deno.readTextFileSync(`${dir}/summary.json`));
}

/** Lines of JSON samples in a text (non-JSON lines, such as warnings, fail the parse). */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
}

/**
 * Runs the CLI with `args`, sending to `sink` while `sleep <secs>` runs and keeping a local copy
 * of the samples (and the spool) in a temporary directory; asserts exit 0.
 */
export async function runToSink(
  args: string[],
  sink: string,
  secs: string,
  env: Record<string, string> = {},
): Promise<{ stderr: string; local: Record<string, unknown>[] }> {
  return await withTempDir("rt-to-sink-", async (dir) => {
    const r = await runCli([
      ...args,
      "--sink",
      sink,
      "--output",
      `${dir}/local.jsonl`,
      "--spool-dir",
      `${dir}/spool`,
      "--",
      "sh",
      "-c",
      `sleep ${secs}`,
    ], { env });
    strictEqual(r.code, 0, r.stderr);
    return { stderr: r.stderr, local: jsonLines(Deno.readTextFileSync(`${dir}/local.jsonl`)) };
  });
}

/** `--procfs/--sysfs/--rootfs` of a machine tree at `dir`; `proc` stands in for its proc/. */
export function treeArgs(dir: string, proc = `${dir}/proc`): string[] {
  return ["--procfs", proc, "--sysfs", `${dir}/sys`, "--rootfs", `${dir}/root`];
}

/** `--procfs/--sysfs/--rootfs` of a recorded fixture; `proc` stands in for its proc/. */
export function fixtureArgs(name: string, proc = `${FIXTURES}/${name}/proc`): string[] {
  return treeArgs(`${FIXTURES}/${name}`, proc);
}

/** A short run on fixture `name` (its proc/ at `proc`): no GPU, `samples` samples 0.1 s apart. */
export function fixtureRun(name: string, proc: string, samples = 2): string[] {
  return [...fixtureArgs(name, proc), "--no-gpu", "-i", "0.1", "--samples", String(samples)];
}

/** A temporary copy of a fixture's proc/ for a test to mangle; the test removes `dir`. */
export function copyFixtureProc(name: string, prefix: string): { dir: string; proc: string } {
  const dir = Deno.makeTempDirSync({ prefix });
  const out = new Deno.Command("cp", { args: ["-a", `${FIXTURES}/${name}/proc`, `${dir}/proc`] })
    .outputSync();
  if (!out.success) throw new Error(`cp -a failed: ${new TextDecoder().decode(out.stderr)}`);
  return { dir, proc: `${dir}/proc` };
}

/**
 * What the sampling loop promises about time, whatever the machine's load: every sample's
 * `actual_interval_ms` is positive and is the time since the previous sample (so consecutive
 * timestamps differ by it, within scheduling jitter: no sample was collected and then lost), and
 * sample k is never taken
 * before k intervals after the baseline (absolute deadlines; a late sample makes the next one
 * come sooner, never earlier than its deadline). How late samples come depends on the load and
 * is not asserted.
 */
export function assertSampleTiming(
  samples: readonly { timestamp_ms: number; actual_interval_ms?: number | null }[],
  intervalMs: number,
  ctx = "",
): void {
  let elapsed = 0;
  for (const [i, s] of samples.entries()) {
    const actual = s.actual_interval_ms ?? NaN;
    ok(actual > 0, `${ctx} sample ${i}: actual_interval_ms ${actual}`);
    elapsed += actual;
    // Rounding to whole ms and timer granularity: 2 ms per sample.
    ok(
      elapsed >= (i + 1) * (intervalMs - 2),
      `${ctx} sample ${i} came ${elapsed} ms after the baseline, before its deadline`,
    );
    if (i > 0) {
      const step = s.timestamp_ms - samples[i - 1]!.timestamp_ms;
      // Wall and monotonic clocks are read back to back, but a loaded machine can preempt the
      // process between the two reads (30+ ms seen at load average 9 on 2 cores). A sample
      // collected and then lost would add its whole interval to the step.
      ok(
        Math.abs(step - actual) <= Math.max(60, intervalMs * 0.6),
        `${ctx} sample ${i}: timestamps ${step} ms apart, actual_interval_ms ${actual}`,
      );
    }
  }
}

/** The argv that runs `argv` under GNU time, which writes "user system" CPU seconds to `out`. */
export function underGnuTime(out: string, ...argv: string[]): string[] {
  return ["/usr/bin/time", "-o", out, "-f", "%U %S", ...argv];
}

/** The CPU seconds (user + system) that `underGnuTime` wrote to `out` (its last line). */
export function gnuTimeCpu(out: string): number {
  const [u, s] = Deno.readTextFileSync(out).trim().split("\n").at(-1)!.split(" ").map(Number);
  return u! + s!;
}

/** True when `name` is an executable on PATH (or an executable path). */
export function hasTool(name: string): boolean {
  const dirs = name.includes("/") ? [""] : (Deno.env.get("PATH") ?? "").split(":");
  for (const d of dirs) {
    try {
      const st = Deno.statSync(d ? `${d}/${name}` : name);
      if (st.isFile && (st.mode ?? 0) & 0o111) return true;
    } catch { /* not here */ }
  }
  return false;
}

/**
 * Names the tools of `names` that are missing and prints why the calling test is skipped; true
 * when it should be. .ci/run installs them (.ci/install_test_tools.sh).
 */
export function skipWithout(test: string, ...names: string[]): boolean {
  const missing = names.filter((n) => !hasTool(n));
  if (missing.length === 0) return false;
  console.log(`skipped "${test}": ${missing.join(", ")} not installed (.ci/run installs it)`);
  return true;
}

/**
 * The `unshare` argv prefix that creates the namespaces `flags` ask for here: as root the flags
 * alone; otherwise inside a new user namespace (`--user --map-root-user`) where the kernel allows
 * one. null when neither works (the caller skips and says why).
 */
export async function unshareWith(...flags: string[]): Promise<string[] | null> {
  for (const prefix of [["unshare"], ["unshare", "--user", "--map-root-user"]]) {
    const args = [...prefix.slice(1), ...flags, "true"];
    const out = await new Deno.Command(prefix[0]!, { args, stdout: "null", stderr: "null" })
      .output().catch(() => null);
    if (out?.success) return [...prefix, ...flags];
  }
  return null;
}

/** Runs `f` with a fresh temporary directory, removed afterwards whatever `f` does. */
export async function withTempDir<T>(prefix: string, f: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    return await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
