/**
 * Live cgroup tests through the real CLI, as root on a host with writable cgroup v1
 * controllers (skipped with the reason printed otherwise): an OOM kill under a 64 MiB limit,
 * throttling under a 0.2-core quota, and `--cgroup` CPU totals against /usr/bin/time. They
 * assert on counters and CPU-seconds, never on wall-clock time, and print the summary lines.
 */
import { ok, strictEqual } from "node:assert/strict";
import { sleep } from "../base/time.ts";
import { parseCgroupMounts, parseProcCgroup } from "../collectors/cgroup_fs.ts";
import { gnuTimeCpu, jsonLines, spawnCli, underGnuTime } from "./helpers.ts";

/** This process's v1 directory for `controller`, when that hierarchy is mounted. */
function ownV1Dir(controller: string): string | undefined {
  try {
    const path = parseProcCgroup(Deno.readTextFileSync("/proc/self/cgroup")).v1.get(controller);
    const m = parseCgroupMounts(Deno.readTextFileSync("/proc/self/mountinfo"))
      .find((m) => !m.v2 && m.controllers.includes(controller));
    if (path === undefined || !m || m.root !== "/") return undefined;
    return m.mountPoint + (path === "/" ? "" : path);
  } catch {
    return undefined;
  }
}

/** A fresh child cgroup for `controller`, or the reason there cannot be one. */
function makeCgroup(controller: string, tag: string): string | { skip: string } {
  if (Deno.uid() !== 0) return { skip: "not root" };
  const base = ownV1Dir(controller);
  if (!base) return { skip: `no cgroup v1 ${controller} hierarchy mounted` };
  const dir = `${base}/rt-live-${tag}-${Deno.pid}`;
  try {
    Deno.mkdirSync(dir);
    return dir;
  } catch (err) {
    return { skip: `cannot create a ${controller} cgroup under ${base}: ${err}` };
  }
}

async function removeCgroup(dir: string) {
  for (let i = 0; i < 40; i++) {
    try {
      Deno.removeSync(dir);
      return;
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return;
      await sleep(50);
    }
  }
}

function canRun(): string | undefined {
  const probe = makeCgroup("memory", "probe");
  if (typeof probe !== "string") return probe.skip;
  Deno.removeSync(probe);
  return undefined;
}
const skip = canRun();
if (skip) console.log(`cgroup live tests skipped: ${skip}`);

/** A live test, ignored where v1 cgroups cannot be used (or `ignore`); the reason is printed above. */
function liveTest(name: string, fn: () => Promise<void>, ignore = false) {
  Deno.test({ name, ignore: skip !== undefined || ignore, fn });
}

/**
 * Runs `f` in a new v1 `controller` cgroup, removed afterwards. Where it cannot be made, an
 * `optional` controller skips (printing why); the memory one, probed above, must be there.
 */
async function inCgroup(
  controller: string,
  tag: string,
  f: (cg: string) => Promise<void>,
  optional = false,
) {
  const cg = makeCgroup(controller, tag);
  if (typeof cg !== "string") {
    if (optional) return console.log(`skipped: ${cg.skip}`);
    throw new Error(`cannot make a ${controller} cgroup: ${cg.skip}`);
  }
  try {
    await f(cg);
  } finally {
    await removeCgroup(cg);
  }
}
const hasTime = (() => {
  try {
    return Deno.statSync("/usr/bin/time").isFile;
  } catch {
    return false;
  }
})();

interface Run {
  code: number;
  stderr: string;
  samples: Record<string, unknown>[];
  summary: Record<string, unknown>;
}

/**
 * Runs the CLI. With `joins`, the command moves itself into that cgroup and waits until a
 * sample shows the tracker has seen it there before it goes on: no race with the sampling.
 */
async function track(
  args: string[],
  command: string[],
  joins?: { dir: string; seen: string },
): Promise<Run> {
  const dir = Deno.makeTempDirSync({ prefix: "rt-cgroup-live-" });
  try {
    const argv = joins
      ? [
        "sh",
        "-c",
        `echo $$ > ${joins.dir}/cgroup.procs; while [ ! -e ${dir}/go ]; do sleep 0.05; done; ${
          command[2]
        }`,
      ]
      : command;
    const { output } = spawnCli([
      "--interval",
      "0.2",
      "--no-gpu",
      "--output",
      `${dir}/samples.jsonl`,
      "--summary-json",
      `${dir}/summary.json`,
      ...args,
      "--",
      ...argv,
    ]);
    if (joins) {
      let done = false;
      output.finally(() => (done = true));
      // A generous bound so that a failure is an assertion, not a hang.
      const give = Date.now() + 120_000;
      while (!done && Date.now() < give) {
        let text = "";
        try {
          text = Deno.readTextFileSync(`${dir}/samples.jsonl`);
        } catch { /* not yet */ }
        if (text.includes(joins.seen)) break;
        await sleep(50);
      }
      Deno.writeTextFileSync(`${dir}/go`, "");
    }
    const r = await output;
    return {
      code: r.code,
      stderr: r.stderr,
      samples: jsonLines(Deno.readTextFileSync(`${dir}/samples.jsonl`)),
      summary: JSON.parse(Deno.readTextFileSync(`${dir}/summary.json`)),
    };
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

type Cg = Record<string, number | string | null>;
const cgroupOf = (s: Record<string, unknown>) => s.cgroup as Cg | null;
const total = (r: Run, key: string) =>
  r.samples.reduce((a, s) => a + Number(cgroupOf(s)?.[key] ?? 0), 0);

/** The summary as a user sees it: the lines after the command's own output. */
function show(title: string, r: Run) {
  const lines = r.stderr.split("\n").filter((l) => /^(resource-tracker:| {2}\S)/.test(l));
  console.log(`--- ${title} (exit ${r.code})\n${lines.join("\n")}`);
}

const MIB = 1048576;
const ALLOC = ["sh", "-c", "head -c 256M /dev/zero | tail"];

liveTest(
  "live: a job that joins a 64 MiB v1 memory cgroup and allocates 256 MiB: OOM kill shown",
  async () => {
    await inCgroup("memory", "oom", async (cg) => {
      Deno.writeTextFileSync(`${cg}/memory.limit_in_bytes`, String(64 * MIB));
      // Without swap accounting this file is absent; with swap, cap memory+swap too.
      try {
        Deno.writeTextFileSync(`${cg}/memory.memsw.limit_in_bytes`, String(64 * MIB));
      } catch { /* no swap accounting */ }
      // The job moves itself into the cgroup after it starts, as launchers do.
      const r = await track([], ALLOC, { dir: cg, seen: `"memory_limit_bytes":${64 * MIB}` });
      show("v1 memory cgroup 64 MiB, 256 MiB allocation, tree mode", r);
      strictEqual(r.code, 137);
      const killed = r.samples.find((s) => Number(cgroupOf(s)?.oom_kills) > 0);
      ok(killed, "a sample shows the OOM kill");
      strictEqual(cgroupOf(killed)!.memory_limit_bytes, 64 * MIB);
      ok(String(cgroupOf(killed)!.path).endsWith(cg.split("/").pop()!));
      const c = r.summary.cgroup as Cg;
      ok(Number(c.oom_kills) >= 1, `summary oom_kills ${c.oom_kills}`);
      strictEqual(c.memory_limit_bytes, 64 * MIB);
      ok(r.stderr.includes("OOM killer fired"), r.stderr);
      ok(r.stderr.includes("(exit 137 = SIGKILL)"), r.stderr);
    });
  },
);

liveTest(
  "live: --cgroup --memory-max 64M on the same allocation: the job's own cgroup OOM-kills it",
  async () => {
    const r = await track(["--cgroup", "--memory-max", "64M"], ALLOC);
    show("--cgroup --memory-max 64M, 256 MiB allocation", r);
    strictEqual(r.code, 137);
    const c = r.summary.cgroup as Cg & { job: Cg };
    ok(Number(c.oom_kills) >= 1);
    strictEqual(c.memory_limit_bytes, 64 * MIB);
    ok(Number(c.job.memory_peak_bytes) > 60 * MIB && Number(c.job.memory_peak_bytes) <= 64 * MIB);
    ok(r.stderr.includes("OOM killer fired") && r.stderr.includes("in the job's cgroup"));
  },
);

/** About 0.4 CPU-seconds of shell arithmetic. */
const BUSY = "i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done";

liveTest("live: a busy loop under a 0.2-core v1 CPU quota: throttling reported", async () => {
  await inCgroup("cpu", "quota", async (cg) => {
    // A 10 ms period: any run of more than 2 ms is throttled, however loaded the host is.
    Deno.writeTextFileSync(`${cg}/cpu.cfs_period_us`, "10000");
    Deno.writeTextFileSync(`${cg}/cpu.cfs_quota_us`, "2000");
    const r = await track([], ["sh", "-c", BUSY], { dir: cg, seen: `"cpu_quota_cores":0.2,` });
    show("v1 cpu cgroup 0.2 cores, busy loop, tree mode", r);
    strictEqual(r.code, 0);
    const c = r.summary.cgroup as Cg;
    strictEqual(c.cpu_quota_cores, 0.2);
    ok(Number(c.cpu_throttled_periods) > 0, `throttled periods ${c.cpu_throttled_periods}`);
    ok(Number(c.throttled_secs) > 0);
    ok(total(r, "cpu_throttled_periods") > 0, "samples show throttling");
    ok(r.stderr.includes("CPU throttled in"), r.stderr);
  }, true);
});

liveTest(
  "live: --cgroup --cpu-max 0.2 on the same loop: throttled in the job's cgroup",
  async () => {
    const r = await track(["--cgroup", "--cpu-max", "0.2"], ["sh", "-c", BUSY]);
    show("--cgroup --cpu-max 0.2, busy loop", r);
    const c = r.summary.cgroup as Cg;
    strictEqual(c.cpu_quota_cores, 0.2);
    ok(Number(c.cpu_throttled_periods) > 0);
    ok(r.stderr.includes("CPU throttled in"));
  },
);

/** 100 processes of ~20 ms CPU each, run one after another by a shell. */
const HUNDRED = [
  "sh",
  "-c",
  `for n in $(seq 100); do sh -c 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done'; done`,
];

async function timed(args: string[]): Promise<{ r: Run; time: number }> {
  const out = Deno.makeTempFileSync({ prefix: "rt-time-" });
  try {
    const r = await track(args, underGnuTime(out, ...HUNDRED));
    return { r, time: gnuTimeCpu(out) };
  } finally {
    Deno.removeSync(out);
  }
}

liveTest(
  "live: --cgroup on 100 processes of ~20 ms: cgroup CPU total = /usr/bin/time within 1 %",
  async () => {
    const { r, time } = await timed(["--cgroup"]);
    show("--cgroup, 100 × 20 ms processes", r);
    const c = r.summary.cgroup as Cg & { job: Cg; cross_check: Cg };
    const cg = Number(c.job.cpu_total_secs);
    const cpu = r.summary.cpu as { total_secs: number };
    console.log(
      `/usr/bin/time ${time.toFixed(2)} s; cgroup ${cg.toFixed(3)} s; samples' total ${
        cpu.total_secs.toFixed(3)
      } s; tree ${Number(c.cross_check.tree_cpu_secs).toFixed(3)} s`,
    );
    strictEqual(r.code, 0);
    // time prints centiseconds: 0.01 s of rounding per field on top of the 1 %.
    ok(Math.abs(cg - time) <= 0.01 * time + 0.02, `cgroup ${cg} vs time ${time}`);
    // The samples' process CPU comes from the cgroup too, and adds up to its total.
    ok(Math.abs(cpu.total_secs - cg) <= 0.005 * cg + 0.01, `samples ${cpu.total_secs} vs ${cg}`);
    ok(Number(c.job.pids_peak) >= 2);

    const tree = await timed([]);
    show("the same without --cgroup (tree mode)", tree.r);
    const tcpu = (tree.r.summary.cpu as { total_secs: number }).total_secs;
    console.log(
      `tree mode: /usr/bin/time ${tree.time.toFixed(2)} s; tracker ${tcpu.toFixed(3)} s`,
    );
  },
  !hasTime,
);

liveTest("live: --wait-descendants keeps tracking a daemon the command left behind", async () => {
  // The command exits at once; its background child burns ~0.4 CPU-s after that.
  const cmd = ["sh", "-c", `(sleep 0.5; ${BUSY}) & exit 0`];
  const waited = await track(["--cgroup", "--wait-descendants"], cmd);
  show("--cgroup --wait-descendants, daemon left behind", waited);
  const c = waited.summary.cgroup as Cg & { job: Cg };
  ok(Number(c.job.cpu_total_secs) > 0.2, `job CPU ${c.job.cpu_total_secs}`);
  const cpu = (waited.summary.cpu as { total_secs: number }).total_secs;
  ok(cpu > 0.2, `samples' CPU ${cpu}`);
  ok(!waited.stderr.includes("still running"), waited.stderr);
});
