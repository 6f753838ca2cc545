/**
 * Tracking a job, live: workloads whose truth is known (a busy loop is ~1 core, touching
 * 256 MiB is ~256 MiB of PSS, dd writes 64 MiB), exit codes, signals, attach mode, PID 1.
 */
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { exists } from "../base/path.ts";
import type { Sample } from "../base/sample.ts";
import { sleep } from "../base/time.ts";
import { V8_FLAGS_ARG } from "../scripts/v8_flags.ts";
import {
  assertSampleTiming,
  gnuTimeCpu,
  jsonLines,
  runCli,
  skipWithout,
  spawnCli,
  underGnuTime,
  unshareWith,
} from "./helpers.ts";

const REPO = new URL("..", import.meta.url).pathname;

/** Samples written to a file, so the wrapped command's own stdout/stderr stay separate. */
async function trackJob(args: string[], command: string[], env: Record<string, string> = {}) {
  const dir = Deno.makeTempDirSync({ dir: REPO, prefix: ".tmp-track-" });
  try {
    const out = `${dir}/samples.jsonl`;
    const r = await runCli([
      ...args,
      "-o",
      out,
      "--summary-json",
      `${dir}/summary.json`,
      "--",
      ...command,
    ], {
      env,
      cwd: dir,
    });
    const samples = jsonLines(await Deno.readTextFile(out).catch(() => "")) as unknown as Sample[];
    const summary = await Deno.readTextFile(`${dir}/summary.json`).then(JSON.parse, () => null);
    return { ...r, samples, summary };
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/** `sh -c script` tracked every `interval` s; it must exit 0. */
async function trackSh(interval: string, script: string) {
  const r = await trackJob(["-i", interval], ["sh", "-c", script]);
  strictEqual(r.code, 0, r.stderr);
  return r;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const cpuSecs = (s: Sample[]) =>
  sum(s.map((x) => (x.cpu.process_utime_secs ?? 0) + (x.cpu.process_stime_secs ?? 0)));

/** `/usr/bin/time -f "%U %S %e"` output: user, system and elapsed seconds (last line). */
function timeFile(path: string): { cpu: number; elapsed: number } {
  const [u, s, e] = Deno.readTextFileSync(path).trim().split("\n").at(-1)!.split(" ").map(Number);
  return { cpu: u! + s!, elapsed: e! };
}

Deno.test("a busy loop reads the cores the kernel gave it (~1.0 when idle); exit code 124 propagates", async () => {
  if (skipWithout("busy loop", "/usr/bin/time", "timeout")) return;
  const dir = Deno.makeTempDirSync();
  try {
    // The truth comes from the kernel (wait4 rusage through GNU time): on a busy machine the
    // loop gets less than a core, and the tracker must read what it really got.
    const r = await trackJob(["-i", "0.5"], [
      "/usr/bin/time",
      "-o",
      `${dir}/time`,
      "-f",
      "%U %S %e",
      "timeout",
      "4",
      "sh",
      "-c",
      "while :; do :; done",
    ]);
    strictEqual(r.code, 124, r.stderr);
    const kernel = timeFile(`${dir}/time`);
    const truth = kernel.cpu / kernel.elapsed;
    const full = r.samples.filter((s) => (s.actual_interval_ms ?? 0) >= 450).slice(1);
    ok(full.length >= 2, `samples: ${r.samples.length}`);
    // Mean over whole intervals, weighted by their length, against the kernel's mean.
    const secs = sum(full.map((s) => s.actual_interval_ms! / 1000));
    const mean = sum(full.map((s) => s.cpu.process_cores_used! * s.actual_interval_ms! / 1000)) /
      secs;
    ok(mean <= 1.05, `mean cores ${mean}: more than the one thread can use`);
    ok(Math.abs(mean - truth) < 0.15, `mean cores ${mean}, kernel ${truth} (${kernel.cpu} s)`);
    if (truth > 0.9) ok(mean > 0.8, `mean cores ${mean} on an idle machine`);
    for (const s of r.samples) {
      ok(s.tracked_pid !== null && s.cpu.process_child_count !== null);
    }
    ok(Math.abs(r.summary.cpu.total_secs - cpuSecs(r.samples)) < 1e-6);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("touching 256 MiB reads ~256 MiB PSS; two processes sharing it are not counted twice", async () => {
  if (skipWithout("256 MiB PSS", "python3")) return;
  const touch = "b = bytearray(256 << 20)\nfor i in range(0, len(b), 4096): b[i] = 1\n";
  const one = await trackJob(["-i", "0.3"], [
    "python3",
    "-c",
    touch + "import time; time.sleep(1.5)",
  ]);
  strictEqual(one.code, 0, one.stderr);
  const pss = Math.max(...one.samples.map((s) => s.cpu.process_pss_mib!));
  ok(pss >= 256 && pss < 300, `peak PSS ${pss} MiB`);
  strictEqual(one.summary.memory.peak_pss_mib, pss);

  // fork after touching: parent and child share the same 256 MiB copy-on-write.
  const shared = touch +
    "import os, time\npid = os.fork()\nif pid == 0:\n  time.sleep(60); os._exit(0)\n" +
    "time.sleep(2.5); os.kill(pid, 9); os.wait()\n";
  const two = await trackJob(["-i", "0.3"], ["python3", "-c", shared]);
  strictEqual(two.code, 0, two.stderr);
  // Not the first or the last sample with the child: a sample that lists the tree, then reads
  // memory across the fork (or across the kill at the end) sees 256 + 128 MiB — the parent as
  // sole owner, the child's half from just before — and on a loaded machine a sample's reads are
  // spread far enough apart for that. The ones in between never count the pages twice.
  const has = (i: number) => two.samples[i]?.cpu.process_child_count === 1;
  const withChild = two.samples.filter((_, i) => has(i - 1) && has(i) && has(i + 1));
  const series = JSON.stringify(
    two.samples.map((
      s,
    ) => [s.cpu.process_child_count, s.cpu.process_pss_mib, s.cpu.process_rss_mib]),
  );
  for (const s of withChild) {
    ok(s.cpu.process_pss_mib! < 300, `PSS ${s.cpu.process_pss_mib} double counted: ${series}`);
  }
  // Both alive and holding the pages (RSS counts them in each): PSS still counts them once.
  const both = withChild.filter((s) => s.cpu.process_rss_mib! > 500);
  ok(
    both.length >= 1,
    `no sample while both processes held the pages: ${
      JSON.stringify(
        two.samples.map((s) => [s.cpu.process_child_count, s.cpu.process_rss_mib]),
      )
    }`,
  );
  for (const s of both) ok(s.cpu.process_pss_mib! >= 250, `PSS ${s.cpu.process_pss_mib}`);
});

Deno.test("writing 64 MiB with fsync reads >= 64 MiB of process_disk_write_bytes", async () => {
  // A child of sh, started inside an interval: its whole counter belongs to the run.
  const r = await trackSh(
    "0.5",
    "dd if=/dev/zero of=blob bs=1M count=64 conv=fsync status=none; sleep 0.6",
  );
  const written = sum(r.samples.map((s) => s.cpu.process_disk_write_bytes!));
  ok(written >= 64 * 1048576, `written ${written}`);
  ok(written < 80 * 1048576, `written ${written}: counted twice?`);
});

Deno.test("the command's own I/O in its last interval is counted (it cannot be read once reaped)", async () => {
  const r = await trackJob(["-i", "10"], [
    "dd",
    "if=/dev/zero",
    "of=blob",
    "bs=1M",
    "count=32",
    "conv=fsync",
    "status=none",
  ]);
  strictEqual(r.code, 0, r.stderr);
  strictEqual(r.samples.length, 1);
  const written = r.samples[0]!.cpu.process_disk_write_bytes!;
  ok(written >= 32 * 1048576 && written < 40 * 1048576, `written ${written}`);
});

Deno.test("exit codes 0, 7 and 143 (signal death) propagate", async () => {
  for (const [cmd, code] of [["exit 0", 0], ["exit 7", 7], ["kill -TERM $$", 143]] as const) {
    const r = await runCli(["-i", "0.5", "--quiet", "--no-summary", "--", "sh", "-c", cmd]);
    strictEqual(r.code, code, `${cmd}: ${r.stderr}`);
    strictEqual(r.stderr, "");
  }
});

Deno.test("a command that cannot start: one line, 127 / 126", async () => {
  const nf = await runCli(["--quiet", "--", "no-such-command-xyz"]);
  strictEqual(nf.code, 127);
  match(nf.stderr, /^error: cannot run "no-such-command-xyz": command not found\n$/);
  const file = Deno.makeTempFileSync();
  Deno.chmodSync(file, 0o644);
  const ne = await runCli(["--quiet", "--", file]);
  Deno.removeSync(file);
  strictEqual(ne.code, 126);
  match(ne.stderr, /^error: cannot run ".*": permission denied/);
  // `host` after `--` is a command to wrap, not the subcommand.
  const host = await runCli(["--quiet", "--", "host-xyz-not-a-subcommand"]);
  strictEqual(host.code, 127);
});

Deno.test("SIGTERM is forwarded to a child that traps it; sampling continues until it exits", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const { child, output } = spawnCli([
      "-i",
      "0.2",
      "-o",
      `${dir}/s.jsonl`,
      "--no-summary",
      "--",
      "sh",
      "-c",
      `trap 'echo got-term; sleep 0.5; exit 3' TERM; touch ${dir}/ready; ` +
      "while :; do sleep 0.1; done",
    ]);
    // Once the trap is set (on a loaded machine that can take seconds), plus two samples.
    while (!exists(`${dir}/ready`)) await sleep(20);
    await sleep(400);
    const before = jsonLines(Deno.readTextFileSync(`${dir}/s.jsonl`)).length;
    child.kill("SIGTERM");
    const r = await output;
    strictEqual(r.code, 3, r.stderr);
    strictEqual(r.stdout, "got-term\n");
    // The child ran 0.5 s after the signal: sampling went on (-i 0.2) until it exited.
    const samples = jsonLines(Deno.readTextFileSync(`${dir}/s.jsonl`));
    ok(samples.length > before, `sampling went on after SIGTERM: ${before} → ${samples.length}`);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a job shorter than one interval still gets its CPU counted", async () => {
  const r = await trackSh("10", "i=0; while [ $i -lt 150000 ]; do i=$((i+1)); done");
  strictEqual(r.samples.length, 1);
  ok(cpuSecs(r.samples) > 0.1, `cpu ${cpuSecs(r.samples)}`);
  ok((r.samples[0]!.actual_interval_ms ?? 0) < 10000);
});

Deno.test("run totals equal the kernel's accounting (/usr/bin/time) within 2%", async () => {
  if (skipWithout("run totals", "/usr/bin/time")) return;
  const dir = Deno.makeTempDirSync();
  try {
    const work =
      "yes > /dev/null & Y=$!; sleep 1.2; kill $Y; wait; i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done";
    const r = await trackJob(["-i", "0.5"], underGnuTime(`${dir}/time`, "sh", "-c", work));
    strictEqual(r.code, 0, r.stderr);
    const kernel = gnuTimeCpu(`${dir}/time`);
    const ours = cpuSecs(r.samples);
    // /usr/bin/time itself adds a few ms that it cannot see but we (rightly) count.
    ok(Math.abs(ours - kernel) <= 0.02 * kernel + 0.03, `ours ${ours} vs kernel ${kernel}`);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("daemonized descendants stay tracked (child subreaper) and are reaped", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    // The subshell exits at once, orphaning `yes`; we adopt it and keep counting it.
    // Just before the kill, the orphan's own CPU time is read from its /proc/PID/stat: the
    // tracker must have counted at least that much (the rest is sh and sleep, a few ms).
    const r = await trackSh(
      "0.4",
      `(yes > /dev/null & echo $! > ${dir}/pid); sleep 1.7; ` +
        `cat /proc/$(cat ${dir}/pid)/stat > ${dir}/stat; kill $(cat ${dir}/pid)`,
    );
    const middle = r.samples.slice(1, -1);
    ok(middle.length >= 2);
    // Counted in every interval it ran (it always gets some CPU, however busy the machine).
    for (const s of middle) ok(s.cpu.process_cores_used! > 0, `cores ${s.cpu.process_cores_used}`);
    const stat = Deno.readTextFileSync(`${dir}/stat`);
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const yesSecs = (Number(f[11]) + Number(f[12])) / 100; // utime, stime (fields 14, 15)
    ok(yesSecs > 0.1, `yes ran ${yesSecs} s`);
    const counted = cpuSecs(r.samples);
    ok(counted >= yesSecs - 0.02, `counted ${counted} s, the orphan alone used ${yesSecs} s`);
    ok(counted <= yesSecs + 0.3, `counted ${counted} s, the orphan used ${yesSecs} s`);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("attach mode: tracks an existing PID, ends with it (exit 0); a missing PID is exit 2", async () => {
  const sleeper = new Deno.Command("sleep", { args: ["1.5"] }).spawn();
  const t0 = performance.now();
  const r = await runCli(["-i", "0.5", "-p", String(sleeper.pid), "-o", "-", "--no-summary"]);
  const ms = performance.now() - t0;
  await sleeper.status;
  strictEqual(r.code, 0, r.stderr);
  const samples = jsonLines(r.stdout) as unknown as Sample[];
  // At least the last partial one; never more than the run's length allows.
  ok(samples.length >= 1 && samples.length <= ms / 500 + 1, `${samples.length} in ${ms} ms`);
  assertSampleTiming(samples.slice(0, -1), 500); // the last one is the partial interval
  for (const s of samples) strictEqual(s.tracked_pid, sleeper.pid);

  const missing = await runCli(["-p", "4194000"]);
  strictEqual(missing.code, 2);
  match(missing.stderr, /^error: --pid 4194000: no such process\n$/);
});

Deno.test("as PID 1 (container entrypoint) it reaps orphans: no zombies", async () => {
  const unshare = await unshareWith("--pid", "--fork", "--mount-proc");
  if (!unshare) {
    console.log('skipped "PID 1": unshare --pid --mount-proc needs root (or user namespaces)');
    return;
  }
  if (skipWithout("PID 1", "ps")) return;
  const cmd = "sh -c 'sleep 0.2 &'; sleep 1; ps -eo stat= | grep -c '^Z' || true";
  const out = await new Deno.Command(unshare[0]!, {
    args: [
      ...unshare.slice(1),
      Deno.execPath(),
      "run",
      "-A",
      V8_FLAGS_ARG,
      `${REPO}main.ts`,
      "-i",
      "0.2",
      "--quiet",
      "--no-summary",
      "--",
      "sh",
      "-c",
      cmd,
    ],
    env: { TRACKER_NO_CLOUD: "1", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  strictEqual(out.code, 0, new TextDecoder().decode(out.stderr));
  deepStrictEqual(text.trim(), "0", "zombies left under PID 1");
});

Deno.test("`host` prints the host facts as JSON", async () => {
  const r = await runCli(["host", "--no-gpu"]);
  strictEqual(r.code, 0, r.stderr);
  const h = JSON.parse(r.stdout);
  for (
    const k of [
      "host_id",
      "host_hostname",
      "host_ip",
      "host_server_allocation",
      "host_vcpus",
      "host_cpu_model",
      "host_memory_mib",
      "host_gpu_model",
      "host_gpu_count",
      "host_gpu_memory_mib",
      "host_storage_gb",
    ]
  ) ok(k in h, k);
  ok(h.host_vcpus >= 1 && h.host_memory_mib > 0);
});
