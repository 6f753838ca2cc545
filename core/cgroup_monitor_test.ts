/**
 * The cgroup monitor and the run summary's forensics on recorded cgroup v1/v2 trees
 * (tests/fixtures/cgroup), with counters advanced between samples as a kernel would.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { CgroupMonitor } from "./cgroup_monitor.ts";
import { CgroupForensics, formatCgroupLines } from "./cgroup_summary.ts";
import type { Sample } from "../base/sample.ts";

const FIXTURES = new URL("../tests/fixtures/cgroup/", import.meta.url).pathname;

/** A writable copy of one fixture tree. */
function copyTree(name: string): string {
  const dir = Deno.makeTempDirSync({ prefix: `cgroup-${name}-` });
  const copy = (from: string, to: string) => {
    Deno.mkdirSync(to, { recursive: true });
    for (const e of Deno.readDirSync(from)) {
      if (e.isDirectory) copy(`${from}/${e.name}`, `${to}/${e.name}`);
      else Deno.copyFileSync(`${from}/${e.name}`, `${to}/${e.name}`);
    }
  };
  copy(`${FIXTURES}${name}`, dir);
  return dir;
}

/** Runs `f` on a fresh copy of fixture tree `name`, removed afterwards. */
function inTree(name: string, f: (root: string) => void): void {
  const root = copyTree(name);
  try {
    f(root);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
}

function monitor(root: string, pid: number | "self" = 4242) {
  return new CgroupMonitor({ proc: `${root}/proc`, sys: `${root}/sys`, pid });
}

const put = (path: string, text: string) => Deno.writeTextFileSync(path, text);
const asSample = (cgroup: Sample["cgroup"]) => ({ cgroup }) as Sample;

Deno.test("v2: limits, OOM, throttling and the cgroup's own PSI; counters per interval", () => {
  inTree("v2", (root) => {
    const m = monitor(root);
    const forensics = new CgroupForensics();
    const s1 = m.sample(new Set([4242]))!;
    forensics.add(asSample(s1));
    strictEqual(s1.version, 2);
    strictEqual(s1.path, "/system.slice/job.service");
    strictEqual(s1.memory_current_bytes, 1073741824);
    strictEqual(s1.memory_limit_bytes, 4294967296);
    strictEqual(s1.memory_high_bytes, null);
    strictEqual(s1.memory_peak_bytes, 2147483648);
    strictEqual(s1.swap_limit_bytes, null);
    strictEqual(s1.cpu_quota_cores, 0.2);
    strictEqual(s1.cpu_period_us, 100000);
    strictEqual(s1.pids_current, 7);
    strictEqual(s1.pids_limit, 100);
    strictEqual(s1.pressure_source, "cgroup");
    // The first reading of a cgroup has no interval: counters are 0, not the totals.
    strictEqual(s1.oom_kills, 0);
    strictEqual(s1.cpu_throttled_periods, 0);
    strictEqual(s1.memory_some_stall_secs, 0);

    const d = `${root}/sys/fs/cgroup/system.slice/job.service`;
    put(`${d}/memory.events`, "low 0\nhigh 0\nmax 15\noom 2\noom_kill 2\noom_group_kill 0\n");
    put(
      `${d}/cpu.stat`,
      "usage_usec 6000000\nuser_usec 4500000\nsystem_usec 1500000\nnr_periods 120\nnr_throttled 44\nthrottled_usec 1700000\n",
    );
    put(`${d}/memory.pressure`, "some total=1200000\nfull total=300000\n");
    put(`${d}/memory.current`, "4080218931\n");
    const s2 = m.sample(new Set([4242]))!;
    forensics.add(asSample(s2));
    strictEqual(s2.oom_kills, 1);
    strictEqual(s2.oom_events, 1);
    strictEqual(s2.memory_limit_hits, 3);
    strictEqual(s2.cpu_periods, 20);
    strictEqual(s2.cpu_throttled_periods, 10);
    strictEqual(s2.cpu_throttled_secs, 0.5);
    strictEqual(s2.memory_some_stall_secs, 0.4);
    strictEqual(s2.memory_full_stall_secs, 0);
    strictEqual(s2.memory_current_bytes, 4080218931);

    // A kill after the last sample: the end-of-run read still sees it.
    put(`${d}/memory.events`, "low 0\nhigh 0\nmax 15\noom 3\noom_kill 3\noom_group_kill 0\n");
    const sum = forensics.build(m.finish(), { job: false })!;
    strictEqual(sum.oom_kills, 2);
    strictEqual(sum.memory_limit_bytes, 4294967296);
    strictEqual(sum.memory_peak_bytes, 4080218931);
    strictEqual(Math.round(sum.memory_peak_pct_of_limit!), 95);
    strictEqual(sum.cpu_throttled_periods, 10);
    strictEqual(sum.cpu_throttled_pct_of_periods, 50);
    strictEqual(sum.throttled_secs, 0.5);
    strictEqual(sum.memory_some_stall_secs, 0.4);
    const lines = formatCgroupLines(sum, { exitCode: 137, durationSecs: 2 });
    deepStrictEqual(lines, [
      "  Cgroup   OOM killer fired 2× in cgroup /system.slice/job.service (exit 137 = SIGKILL)",
      "  Cgroup   memory peaked at 95 % of its 4.0 GiB limit",
      "  Cgroup   CPU throttled in 50 % of periods (0.5 s lost) under a 0.2 core quota",
      "  Cgroup   stalled on memory 20 % of the run",
    ]);
  });
});

Deno.test("a process that moves is followed; both cgroups are read at the end", () => {
  inTree("v2", (root) => {
    const m = monitor(root);
    strictEqual(m.sample(new Set([4242]))!.path, "/system.slice/job.service");
    put(`${root}/proc/4242/cgroup`, "0::/user.slice/tracker.scope\n");
    const s = m.sample(new Set([4242]))!;
    strictEqual(s.path, "/user.slice/tracker.scope");
    strictEqual(s.memory_current_bytes, null); // that cgroup has no memory controller files
    // The old cgroup's kill, after the move, still counts.
    put(
      `${root}/sys/fs/cgroup/system.slice/job.service/memory.events`,
      "max 12\noom 1\noom_kill 4\n",
    );
    const seen = m.finish();
    deepStrictEqual(seen.map((c) => c.dirs.path), [
      "/user.slice/tracker.scope",
      "/system.slice/job.service",
    ]);
    strictEqual(new CgroupForensics().build(seen, { job: false })!.oom_kills, 3);
  });
});

Deno.test("untroubled run: no cgroup lines at all", () => {
  inTree("v2", (root) => {
    put(`${root}/sys/fs/cgroup/system.slice/job.service/cpu.max`, "max 100000\n");
    const m = monitor(root);
    const f = new CgroupForensics();
    f.add(asSample(m.sample(null)));
    const sum = f.build(m.finish(), { job: false })!;
    deepStrictEqual(formatCgroupLines(sum, { exitCode: 0, durationSecs: 10 }), []);
    strictEqual(sum.oom_kills, 0);
    strictEqual(sum.cpu_quota_cores, null);
  });
});

Deno.test("v1: co-mounted cpu,cpuacct, memsw swap, failcnt, ns throttling, host PSI", () => {
  inTree("v1", (root) => {
    const m = monitor(root);
    const s = m.sample(null)!;
    strictEqual(s.version, 1);
    strictEqual(s.path, "/docker/abc");
    strictEqual(s.memory_current_bytes, 67108864);
    strictEqual(s.memory_limit_bytes, 67108864);
    strictEqual(s.memory_peak_bytes, 67108864);
    strictEqual(s.memory_high_bytes, null);
    strictEqual(s.swap_current_bytes, 1048576);
    strictEqual(s.swap_limit_bytes, 67108864);
    strictEqual(s.oom_events, null); // v1 has no such counter
    strictEqual(s.oom_kills, 0);
    strictEqual(s.cpu_quota_cores, 0.2);
    strictEqual(s.pids_current, 12);
    strictEqual(s.pids_limit, null);
    // The process's v2 cgroup (hybrid mount) has no *.pressure here: the host's PSI is used.
    strictEqual(s.pressure_source, "host");
    const c = `${root}/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.stat`;
    put(c, "nr_periods 60\nnr_throttled 27\nthrottled_time 4400000000\n");
    put(
      `${root}/sys/fs/cgroup/memory/docker/abc/memory.oom_control`,
      "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
    );
    const s2 = m.sample(null)!;
    strictEqual(s2.cpu_throttled_periods, 10);
    strictEqual(s2.cpu_throttled_secs, 1);
    strictEqual(s2.oom_kills, 1);
    // Host PSI is read every few samples: between reads the stall fields are null.
    strictEqual(s2.cpu_some_stall_secs, null);
  });
});

Deno.test("old kernels: missing files are null, never made up", () => {
  for (const name of ["v1-old", "v2-old"]) {
    inTree(name, (root) => {
      const s = monitor(root).sample(null)!;
      strictEqual(s.memory_limit_bytes, null, name);
      strictEqual(s.memory_peak_bytes, name === "v1-old" ? 2000 : null, name);
      strictEqual(s.swap_current_bytes, null, name);
      strictEqual(s.pressure_source, null, name);
      strictEqual(s.cpu_some_stall_secs, null, name);
      strictEqual(s.cpu_quota_cores, null, name);
      strictEqual(s.oom_kills, name === "v1-old" ? null : 0, name);
      strictEqual(s.pids_current, name === "v1-old" ? null : 1, name);
    });
  }
});

Deno.test("no cgroup file (a fixture without one, or a vanished process): null", () => {
  inTree("v2", (root) => {
    strictEqual(monitor(root, 999).sample(null), null);
    ok(monitor(root, "self").sample(null) !== null);
  });
});

Deno.test("cross-check: tree and cgroup CPU side by side; > 2 % (and > 2 ticks) is a warning", () => {
  inTree("v2", (root) => {
    const job = {
      version: 2 as const,
      path: "/system.slice/job.service",
      unified: `${root}/sys/fs/cgroup/system.slice/job.service`,
      unifiedPath: "/system.slice/job.service",
    };
    const m = new CgroupMonitor({ proc: `${root}/proc`, sys: `${root}/sys`, pid: 4242, job });
    m.sample(null);
    const seen = m.finish();
    // The fixture's cgroup has used 5 s (usage_usec 5000000), counted from its creation.
    const agree = new CgroupForensics().build(seen, { job: true, treeCpuSecs: 4.95 })!;
    strictEqual(agree.job!.cpu_total_secs, 5);
    strictEqual(agree.job!.cpu_user_secs, 4);
    strictEqual(agree.cross_check!.warning, false);
    const lines = formatCgroupLines(agree, { exitCode: 0, durationSecs: 100 });
    ok(lines.some((l) => l.includes("CPU tree 4.95 s vs cgroup 5.00 s: agree within 1.0 %")));
    const escaped = new CgroupForensics().build(seen, { job: true, treeCpuSecs: 4 })!;
    strictEqual(escaped.cross_check!.warning, true);
    ok(
      formatCgroupLines(escaped, { exitCode: 0, durationSecs: 100 })
        .some((l) => l.includes("differ by -20.0 % (> 2 %): a process escaped the tree")),
    );
    // A tiny job: 2 % is less than the tree's 10 ms ticks, no warning.
    put(`${job.unified}/cpu.stat`, "usage_usec 100000\nuser_usec 100000\nsystem_usec 0\n");
    const tiny = new CgroupForensics().build(m.finish(), { job: true, treeCpuSecs: 0.09 })!;
    strictEqual(tiny.cross_check!.warning, false);
  });
});

Deno.test("a container's cgroup namespace: `/` is the container's own cgroup, with its own PSI", () => {
  inTree("v2-container", (root) => {
    const s = monitor(root, 1).sample(null)!;
    strictEqual(s.path, "/");
    strictEqual(s.memory_limit_bytes, 536870912);
    strictEqual(s.cpu_quota_cores, 1.5);
    strictEqual(s.pids_limit, 1024);
    strictEqual(s.pressure_source, "cgroup");
  });
});

Deno.test("memory.high throttling and refused forks are reported when they happened", () => {
  inTree("v2", (root) => {
    const m = monitor(root);
    const f = new CgroupForensics();
    const s1 = m.sample(null)!;
    strictEqual(s1.memory_high_events, 0);
    strictEqual(s1.pids_limit_hits, 0);
    f.add(asSample(s1));
    const d = `${root}/sys/fs/cgroup/system.slice/job.service`;
    put(`${d}/memory.events`, "low 0\nhigh 5\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n");
    put(`${d}/pids.events`, "max 3\n");
    const s2 = m.sample(null)!;
    strictEqual(s2.memory_high_events, 5);
    // pids.events is read with the limits (every 10th sample) and at the end.
    strictEqual(s2.pids_limit_hits, 0);
    const sum = f.build(m.finish(), { job: false })!;
    strictEqual(sum.memory_high_events, 5);
    strictEqual(sum.pids_limit_hits, 3);
    const lines = formatCgroupLines(sum, { exitCode: 1, durationSecs: 100 });
    ok(lines.includes(
      "  Cgroup   memory.high exceeded 5× in cgroup /system.slice/job.service (allocations throttled)",
    ));
    ok(lines.includes(
      "  Cgroup   forks refused 3× in cgroup /system.slice/job.service at its limit of 100 tasks",
    ));
  });
});

Deno.test("a parent's memory limit binds: v2 ancestors' memory.max, v1 hierarchical_memory_limit", () => {
  const v2 = copyTree("v2");
  const v1 = copyTree("v1");
  try {
    put(`${v2}/sys/fs/cgroup/system.slice/job.service/memory.max`, "max\n");
    put(`${v2}/sys/fs/cgroup/system.slice/memory.max`, "2147483648\n");
    strictEqual(monitor(v2).sample(null)!.memory_limit_bytes, 2147483648);
    put(`${v2}/sys/fs/cgroup/system.slice/job.service/memory.max`, "1073741824\n");
    strictEqual(monitor(v2).sample(null)!.memory_limit_bytes, 1073741824);

    const mem = `${v1}/sys/fs/cgroup/memory/docker/abc`;
    put(`${mem}/memory.stat`, "cache 0\nrss 0\nhierarchical_memory_limit 33554432\n");
    strictEqual(monitor(v1).sample(null)!.memory_limit_bytes, 33554432);
    put(`${mem}/memory.stat`, "cache 0\nhierarchical_memory_limit 9223372036854771712\n");
    strictEqual(monitor(v1).sample(null)!.memory_limit_bytes, 67108864);
  } finally {
    Deno.removeSync(v2, { recursive: true });
    Deno.removeSync(v1, { recursive: true });
  }
});
