/**
 * What the tracker cannot know it says (issue 13, defects 2, 4, 5, 6): an attached process's exit
 * status, unreadable members, a procfs root that is not one; peaks that are not tick noise;
 * memory that is not rounded to 0.
 */
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import type { Sample } from "../base/sample.ts";
import { formatSummary, SummaryBuilder } from "../report/summary.ts";
import { makeSample } from "./fakes/samples.ts";
import { fixtureArgs, FIXTURES, jsonLines, outputsIn, runCli, summaryIn } from "./helpers.ts";
import { violations } from "./invariants.ts";

Deno.test("attached: a process that exits 5 is 'ended', exit_code null, and the tracker exits 0", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const job = new Deno.Command("sh", { args: ["-c", "sleep 1.2; exit 5"] }).spawn();
    const r = await runCli([
      "-i",
      "0.3",
      "--no-gpu",
      "-p",
      String(job.pid),
      ...outputsIn(dir),
    ]);
    strictEqual((await job.status).code, 5);
    strictEqual(r.code, 0, r.stderr);
    match(r.stderr, /ended after .* exit status not visible to an attached tracker/);
    ok(!/exited with/.test(r.stderr), r.stderr);
    const summary = summaryIn(dir);
    strictEqual(summary.exit_code, null);
    strictEqual(summary.end, "ended");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("attached and stopped by --samples: 'stopped after N samples', no exit claimed", async () => {
  const dir = Deno.makeTempDirSync();
  const job = new Deno.Command("sleep", { args: ["30"] }).spawn();
  try {
    const r = await runCli([
      "-i",
      "0.2",
      "--no-gpu",
      "--samples",
      "2",
      "-p",
      String(job.pid),
      ...outputsIn(dir),
    ]);
    strictEqual(r.code, 0, r.stderr);
    match(r.stderr, new RegExp(`PID ${job.pid}: stopped after 2 samples`));
    const summary = summaryIn(dir);
    strictEqual(summary.exit_code, null);
    strictEqual(summary.end, "stopped");
  } finally {
    job.kill();
    await job.status;
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("wrapped: the exit code stays known", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const r = await runCli([
      "-i",
      "0.3",
      "--no-gpu",
      ...outputsIn(dir),
      "--",
      "sh",
      "-c",
      "exit 5",
    ]);
    strictEqual(r.code, 5);
    match(r.stderr, /exited with 5/);
    const summary = summaryIn(dir);
    strictEqual(summary.exit_code, 5);
    strictEqual(summary.end, "exited");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("--procfs that is not a procfs root is a usage error; fixture roots stay valid", async () => {
  for (const root of ["/nonexistent-procfs", Deno.makeTempDirSync()]) {
    const r = await runCli(["--procfs", root, "--samples", "1", "-o", "-"]);
    strictEqual(r.code, 2, r.stderr);
    strictEqual(r.stdout, "");
    match(r.stderr, new RegExp(`^error: --procfs ${root}: not a procfs root \\(no `));
  }
  const ok1 = await runCli([...fixtureArgs("vm-basic"), "--no-gpu", "--samples", "1", "-o", "-"]);
  strictEqual(ok1.code, 0, ok1.stderr);
});

Deno.test("members whose memory or I/O cannot be read are counted, warned once, summarised", async () => {
  // A procfs with one process whose stat is readable but smaps_rollup and io are not there (as
  // for another user's process: stat is world-readable, the others need ptrace rights).
  const dir = Deno.makeTempDirSync();
  try {
    const proc = `${dir}/proc`;
    Deno.mkdirSync(`${proc}/4242/task/4242`, { recursive: true });
    for (const f of ["stat", "meminfo"]) {
      Deno.copyFileSync(`${FIXTURES}/vm-basic/proc/${f}`, `${proc}/${f}`);
    }
    Deno.writeTextFileSync(`${proc}/uptime`, "5000.00 9000.00\n");
    Deno.writeTextFileSync(
      `${proc}/4242/stat`,
      "4242 (other user) S 1 4242 4242 0 -1 4194560 90 0 0 0 7 3 0 0 20 0 1 0 1000 2400000 " +
        "150 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
    );
    Deno.writeTextFileSync(`${proc}/4242/status`, "Name:\tother\nVmRSS:\t  6144 kB\n");
    Deno.writeTextFileSync(`${proc}/4242/task/4242/children`, "");
    const r = await runCli([
      ...fixtureArgs("vm-basic", proc),
      "--no-gpu",
      "-i",
      "0.2",
      "--samples",
      "3",
      "-p",
      "4242",
      ...outputsIn(dir),
    ]);
    strictEqual(r.code, 0, r.stderr);
    const warnings = r.stderr.split("\n").filter((l) => /cannot be read/.test(l));
    strictEqual(warnings.length, 1, r.stderr);
    match(warnings[0]!, /^warn: 1 of 1 processes of the tracked tree cannot be read/);
    const samples = jsonLines(Deno.readTextFileSync(`${dir}/samples.jsonl`)) as unknown as Sample[];
    strictEqual(samples.length, 3);
    for (const s of samples) {
      strictEqual(s.cpu.process_unreadable_count, 1);
      strictEqual(s.cpu.process_rss_mib, 6); // what status shows is still used
      strictEqual(s.cpu.process_pss_mib, 0);
    }
    const summary = summaryIn(dir);
    strictEqual(summary.unreadable_processes, 1);
    match(r.stderr, /up to 1 processes of the tree could not be read/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

function sample(ms: number, cores: number, pss = 0.3): Sample {
  const s = makeSample(1, 42);
  s.actual_interval_ms = ms;
  Object.assign(s.cpu, {
    process_cores_used: cores,
    process_utime_secs: cores * ms / 1000,
    process_stime_secs: 0,
    process_pss_mib: pss,
    process_rss_mib: pss * 2,
    process_disk_read_bytes: 0,
    process_disk_write_bytes: 0,
    process_unreadable_count: 0,
  });
  return s;
}

Deno.test("summary peak: over windows of at least half the interval; a short last one joins the one before", () => {
  const b = new SummaryBuilder(1);
  for (const s of [sample(1000, 1.0), sample(1000, 1.0), sample(40, 1.75)]) b.add(s);
  const r = b.build({
    command: ["x"],
    trackedPid: 42,
    exitCode: 0,
    end: "exited",
    durationSecs: 2.04,
    cloud: null,
  });
  // (1.0 × 1 s + 1.75 × 0.04 s) / 1.04 s: the 40 ms tail is not a 1.75-core peak.
  ok(Math.abs(r.cpu.peak_cores - 1.07 / 1.04) < 1e-9, `${r.cpu.peak_cores}`);
  // Short samples in the middle (a late wake-up) are joined with their neighbours too.
  const m = new SummaryBuilder(1);
  for (const s of [sample(300, 2), sample(300, 0), sample(1000, 0.5)]) m.add(s);
  const rm = m.build({
    command: null,
    trackedPid: 42,
    exitCode: null,
    end: "ended",
    durationSecs: 1.6,
    cloud: null,
  });
  strictEqual(rm.cpu.peak_cores, 1);
  // A run shorter than half an interval: its only window is the run itself.
  const one = new SummaryBuilder(10);
  one.add(sample(200, 0.9));
  strictEqual(
    one.build({
      command: null,
      trackedPid: 1,
      exitCode: 0,
      end: "exited",
      durationSecs: 0.2,
      cloud: null,
    })
      .cpu.peak_cores,
    0.9,
  );
});

Deno.test("summary memory keeps fractions: 0.3 MiB of PSS is not '0 B'", () => {
  const b = new SummaryBuilder(1);
  b.add(sample(1000, 0.1, 0.3047));
  const r = b.build({
    command: null,
    trackedPid: 7,
    exitCode: null,
    end: "ended",
    durationSecs: 1,
    cloud: null,
  });
  strictEqual(r.memory.peak_pss_mib, 0.3047);
  const text = formatSummary(r);
  match(text, /peak PSS 312\.0 KiB, peak RSS 624\.0 KiB/);
  match(text, /PID 7 ended after 1\.0 s \(1 samples\); exit status not visible/);
});

Deno.test("the invariant validator catches what it promises to", () => {
  const good = sample(1000, 0.5);
  good.cpu.utilization_pct = 0.6;
  good.cpu.per_core_pct = [30, 30];
  good.memory.total_mib = 100;
  deepStrictEqual(violations([good]), []);
  const over = structuredClone(good);
  over.cpu.process_cores_used = 0.6 + 0.02 + 0.001; // busy 0.6 + 2 CPUs × 1 tick / 1 s
  match(violations([over])[0]!, /process_cores_used .* > host busy/);
  const neg = structuredClone(good);
  neg.cpu.process_disk_write_bytes = -1;
  match(violations([neg])[0]!, /process_disk_write_bytes = -1 < 0/);
  const pss = structuredClone(good);
  pss.cpu.process_pss_mib = 102;
  pss.cpu.process_rss_mib = 200;
  match(violations([pss])[0]!, /PSS 102 MiB > MemTotal 100 MiB/);
  match(
    violations([good], { cpu: { user_secs: 0.6, system_secs: 0 }, disk: {} })[0]!,
    /summary cpu.user_secs 0.6 != Σ intervals 0.5/,
  );
});
