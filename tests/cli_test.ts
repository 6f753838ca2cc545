/** Live smoke tests of the real CLI on this machine's /proc and /sys. */
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { CSV_HEADER } from "../formats/csv.ts";
import { OPTIONS } from "../cli/options.ts";
import type { Sample } from "../base/sample.ts";
import { sleep } from "../base/time.ts";
import { assertSampleTiming, command, jsonLines, runCli } from "./helpers.ts";

const cores =
  Deno.readTextFileSync("/proc/stat").split("\n").filter((l) => /^cpu\d/.test(l)).length;

/** A user-facing error: exactly one line, prefixed, no stack trace. */
function oneErrorLine(stderr: string, pattern: RegExp) {
  const lines = stderr.trimEnd().split("\n");
  strictEqual(lines.length, 1, `expected one line, got:\n${stderr}`);
  match(lines[0]!, /^error: /);
  match(lines[0]!, pattern);
  ok(!/\bat .*\.ts:\d+/.test(stderr), "stack trace leaked");
}

Deno.test("live JSON samples: valid lines on stderr, invariants hold, no lo", async () => {
  const r = await runCli(["--interval", "0.2", "--samples", "3"]);
  strictEqual(r.code, 0, r.stderr);
  strictEqual(r.stdout, "", "stdout belongs to the wrapped command");
  const samples = jsonLines(r.stderr);
  strictEqual(samples.length, 3);
  assertSampleTiming(samples as unknown as Sample[], 200);
  for (const s of samples as unknown as Sample[]) {
    ok(Number.isInteger(s.timestamp_secs) && Number.isInteger(s.timestamp_ms));
    strictEqual(s.timestamp_secs, Math.floor(s.timestamp_ms / 1000));
    ok(s.memory.used_mib + s.memory.available_mib <= s.memory.total_mib);
    ok(s.cpu.utilization_pct >= 0 && s.cpu.utilization_pct <= cores * 1.05);
    strictEqual(s.cpu.per_core_pct.length, cores);
    ok(s.cpu.process_count > 0);
    ok(!s.network.some((n: { interface: string }) => n.interface === "lo"));
    deepStrictEqual(s.gpu, []);
    strictEqual(s.tracked_pid, null);
    strictEqual(typeof s["resource-tracker-version"], "string");
    for (const d of s.disk) ok(d.capacity_bytes === null || d.capacity_bytes > 0);
  }
});

Deno.test("live CSV: exact header once, 32 columns per row, 3-decimal timestamp", async () => {
  const r = await runCli(["-f", "csv", "-i", "0.2", "--samples", "2", "-o", "-"]);
  strictEqual(r.code, 0, r.stderr);
  strictEqual(r.stdout.slice(0, CSV_HEADER.length), CSV_HEADER);
  const rows = r.stdout.slice(CSV_HEADER.length).trimEnd().split("\n");
  strictEqual(rows.length, 2);
  for (const row of rows) {
    const cols = row.split(",");
    strictEqual(cols.length, 32);
    match(cols[0]!, /^\d{10}\.\d{3}$/);
    strictEqual(cols.slice(21).join(""), "", "no process columns without a tracked PID");
  }
});

Deno.test("bad input: one line, exit 2", async () => {
  const cases: [string[], RegExp, Record<string, string>?][] = [
    [["--interval", "0"], /--interval: expected seconds >= 0\.1, got "0"/],
    [["--interval", "abc"], /--interval: .*"abc"/],
    [["--format", "xml"], /--format: expected one of json, csv/],
    [["--frobnicate"], /unknown option --frobnicate/],
    [["--tag", "oops"], /--tag: expected KEY=VALUE/],
    [["--config", "/nonexistent/rt.toml"], /cannot read config file "\/nonexistent\/rt\.toml"/],
    [[], /TRACKER_QUIET: expected/, { TRACKER_QUIET: "maybe" }],
  ];
  for (const [args, pattern, env] of cases) {
    const r = await runCli(args, env ? { env } : {});
    strictEqual(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    oneErrorLine(r.stderr, pattern);
  }
});

Deno.test("a TOML syntax error names the file and line; unknown keys warn", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(
      `${dir}/resource-tracker.toml`,
      "[tracker]\ninterval = 0.2\nthis is = = broken\n",
    );
    const r = await runCli([], { cwd: dir });
    strictEqual(r.code, 2);
    oneErrorLine(r.stderr, /cannot parse "resource-tracker\.toml" line 3/);
    Deno.writeTextFileSync(
      `${dir}/resource-tracker.toml`,
      "[tracker]\ninterval = 0.2\nsamples = 1\nwat = 1\n",
    );
    const ok2 = await runCli([], { cwd: dir });
    strictEqual(ok2.code, 0, ok2.stderr);
    match(ok2.stderr, /^warn: unknown key "tracker\.wat" in "resource-tracker\.toml" ignored\n\{/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("--output FILE is created 0600; a symlink is refused; --quiet writes nothing", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const file = `${dir}/out.jsonl`;
    const r = await runCli(["-i", "0.1", "--samples", "2", "-o", file]);
    strictEqual(r.code, 0, r.stderr);
    strictEqual(r.stderr, "");
    strictEqual(jsonLines(Deno.readTextFileSync(file)).length, 2);
    strictEqual(Deno.statSync(file).mode! & 0o777, 0o600);

    Deno.writeTextFileSync(`${dir}/victim`, "keep me");
    Deno.symlinkSync(`${dir}/victim`, `${dir}/link.jsonl`);
    const bad = await runCli(["-i", "0.1", "--samples", "1", "-o", `${dir}/link.jsonl`]);
    strictEqual(bad.code, 1);
    oneErrorLine(bad.stderr, /symbolic link; refusing/);
    strictEqual(Deno.readTextFileSync(`${dir}/victim`), "keep me");

    const devnull = await runCli(["-i", "0.1", "--samples", "1", "-o", "/dev/null"]);
    strictEqual(devnull.code, 0, devnull.stderr);
    const isDir = await runCli(["-i", "0.1", "--samples", "1", "-o", dir]);
    strictEqual(isDir.code, 1);
    oneErrorLine(isDir.stderr, /it is a directory/);

    const quiet = await runCli(["-i", "0.1", "--samples", "1", "-o", `${dir}/q.jsonl`, "--quiet"]);
    strictEqual(quiet.code, 0);
    strictEqual(quiet.stderr + quiet.stdout, "");
    ok(!(await Deno.stat(`${dir}/q.jsonl`).then(() => true, () => false)));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("SIGTERM and SIGINT: final partial sample, whole lines, exit 0", async () => {
  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    const child = command(["-i", "1"]).spawn();
    // Signal once the first sample is out (start-up can take seconds on a loaded machine); the
    // next deadline is then up to a second away, so the stop lands inside an interval.
    const reader = child.stderr.getReader();
    const dec = new TextDecoder();
    let text = "";
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += dec.decode(value, { stream: true });
    }
    await sleep(300);
    child.kill(sig);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += dec.decode(value, { stream: true });
    }
    const st = await child.status;
    await child.stdout.cancel();
    strictEqual(st.code, 0, `${sig}: ${text}`);
    ok(text.endsWith("\n"), `${sig}: ends with a partial line`);
    const samples = jsonLines(text) as unknown as Sample[];
    ok(samples.length >= 2, `${sig}: the partial interval is emitted (${samples.length})`);
    assertSampleTiming(samples.slice(0, -1), 1000, sig);
    ok(samples.at(-1)!.actual_interval_ms! < 1000, `${sig}: last is a partial interval`);
  }
});

Deno.test("--help lists every flag with its variable; --version prints the version", async () => {
  const help = await runCli(["--help"]);
  strictEqual(help.code, 0);
  for (const o of OPTIONS) {
    ok(help.stdout.includes(`--${o.name}`), `--${o.name} missing from --help`);
    if (o.env) ok(help.stdout.includes(o.env), `${o.env} missing from --help`);
  }
  match(help.stdout.replace(/\s+/g, " "), /put `--` before it/);
  // Not a terminal here: at most 100 columns (example commands are not wrapped).
  for (const l of help.stdout.split("\n")) {
    ok(l.length <= 100 || l.startsWith("    resource-tracker"), `too wide: ${l}`);
  }
  for (const args of [["help", "host"], ["host", "--help"], ["host", "-h"]]) {
    const page = await runCli(args);
    strictEqual(page.code, 0, page.stderr);
    match(page.stdout, /^resource-tracker host — /);
    ok(page.stdout.includes("--procfs DIR") && !page.stdout.includes("--interval"), args.join(" "));
  }
  strictEqual((await runCli(["help"])).stdout, help.stdout);
  const bad = await runCli(["help", "nope"]);
  strictEqual(bad.code, 2);
  match(bad.stderr, /^error: help: no subcommand "nope" \(one of [a-z, ]+\)\n$/);
  const v = await runCli(["--version"]);
  match(v.stdout, /^resource-tracker \d+\.\d+\.\d+\n$/);
});
