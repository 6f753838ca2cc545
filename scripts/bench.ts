/**
 * `deno task bench` — a benchmark, not a test. Prints one table and writes it as JSON.
 *
 *   deno task bench                 # 60 s per tracker run
 *   deno task bench --quick         # 15 s per tracker run
 *   deno task bench --out FILE      # JSON destination (default dist/bench.json)
 *
 * Measures (1) per-sample collection time in-process at 100/1000/5000 host processes, for
 * system-only and for a 50-process tree; (2) the tracker as a subprocess: CPU as % of one core
 * and RSS (steady, peak) for system-only and the tree, with ~100 and ~2000 extra idle
 * processes, at 1 s and 0.1 s; (3) start-up: exec → wrapped child running, exec → first sample;
 * (4) Deno's own baseline (empty script start-up and idle RSS).
 */
import { parseArgs } from "node:util";
import { sleep } from "../base/time.ts";
import { ProcessTracker } from "../core/process_tracker.ts";
import { DEFAULT_ROOTS } from "../base/sample.ts";
import { Sampler } from "../core/sampler.ts";
import { ENV, quantile, spawnTracker, statusKb, writeJson } from "./tracker_process.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    quick: { type: "boolean", default: false },
    out: { type: "string", default: "dist/bench.json" },
  },
});
const RUN_SECS = values.quick ? 15 : 60;
const DENO = Deno.execPath();

const countProcs = () => [...Deno.readDirSync("/proc")].filter((e) => /^\d+$/.test(e.name)).length;

/** Idle `sleep` processes that make the host bigger; they are not part of any tracked tree. */
class IdleHerd {
  #kids: Deno.ChildProcess[] = [];
  async resize(target: number) {
    while (countProcs() < target) {
      const batch = Math.min(200, target - countProcs());
      for (let i = 0; i < batch; i++) {
        this.#kids.push(
          new Deno.Command("sleep", {
            args: ["100000"],
            stdin: "null",
            stdout: "null",
            stderr: "null",
          }).spawn(),
        );
      }
      await sleep(50);
    }
    while (countProcs() > target + 20 && this.#kids.length > 0) {
      const k = this.#kids.pop()!;
      k.kill("SIGKILL");
      await k.status;
    }
  }
  async stop() {
    for (const k of this.#kids) k.kill("SIGKILL");
    await Promise.all(this.#kids.map((k) => k.status));
    this.#kids = [];
  }
}

/** A 50-process tree: sh + 49 sleeps, ending by itself after `secs`. */
function treeCommand(secs: number): string[] {
  return ["sh", "-c", `for i in $(seq 49); do sleep ${secs + 3} & done; sleep ${secs}`];
}

/** CPU-ns of every thread of a process (schedstat is ns-precise; stat ticks are 10 ms). */
function cpuNs(pid: number): number {
  let ns = 0;
  for (const t of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(Deno.readTextFileSync(`/proc/${pid}/task/${t.name}/schedstat`).split(" ")[0]);
    } catch { /* thread exited */ }
  }
  return ns;
}

interface PerSample {
  host_processes: number;
  mode: string;
  median_ms: number;
  p95_ms: number;
}

async function perSample(hostTarget: number, herd: IdleHerd): Promise<PerSample[]> {
  await herd.resize(hostTarget);
  const out: PerSample[] = [];
  const tree = new Deno.Command(treeCommand(120)[0]!, { args: treeCommand(120).slice(1) }).spawn();
  await sleep(500);
  for (const mode of ["system", "system+tree(50)"]) {
    const sampler = new Sampler({
      roots: DEFAULT_ROOTS,
      jobName: null,
      version: "bench",
      warn: () => {},
      ...(mode === "system" ? {} : { process: new ProcessTracker("/proc", tree.pid) }),
    });
    const times: number[] = [];
    sampler.collect(Date.now());
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      sampler.collect(Date.now(), 1000);
      times.push(performance.now() - t);
    }
    out.push({
      host_processes: countProcs(),
      mode,
      median_ms: quantile(times, 0.5),
      p95_ms: quantile(times, 0.95),
    });
  }
  tree.kill("SIGKILL");
  await tree.status;
  await new Deno.Command("pkill", { args: ["-f", "sleep 123"] }).output().catch(() => {});
  return out;
}

interface RunFigures {
  mode: string;
  host_processes: number;
  interval_s: number;
  secs: number;
  cpu_pct_of_one_core: number;
  rss_steady_mib: number;
  rss_peak_mib: number;
  samples: number;
}

async function trackerRun(mode: string, interval: number, secs: number): Promise<RunFigures> {
  const args = ["-i", String(interval), "-o", "/dev/null", "--no-summary"];
  if (mode !== "system") args.push("--", ...treeCommand(secs + 4));
  const child = spawnTracker(args);
  await sleep(3000); // start-up and JIT warm-up are measured separately
  const cpu0 = cpuNs(child.pid), t0 = performance.now();
  const rss: number[] = [];
  for (let i = 0; i < secs; i++) {
    await sleep(1000);
    rss.push(statusKb(child.pid, "VmRSS") / 1024);
  }
  const cpu1 = cpuNs(child.pid), t1 = performance.now();
  const peak = statusKb(child.pid, "VmHWM") / 1024;
  child.kill("SIGTERM");
  await child.status;
  return {
    mode,
    host_processes: countProcs(),
    interval_s: interval,
    secs,
    cpu_pct_of_one_core: ((cpu1 - cpu0) / 1e6 / (t1 - t0)) * 100,
    rss_steady_mib: quantile(rss.slice(Math.floor(rss.length / 2)), 0.5),
    rss_peak_mib: peak,
    samples: Math.round(((t1 - t0) / 1000) / interval),
  };
}

/** exec → wrapped child running, and exec → first sample line, medians of 5. */
async function startup(): Promise<Record<string, number>> {
  const toChild: number[] = [], toSample: number[] = [], empty: number[] = [];
  const dir = Deno.makeTempDirSync();
  try {
    for (let i = 0; i < 5; i++) {
      const mark = `${dir}/t${i}`;
      const t0 = Date.now();
      const child = spawnTracker(
        ["-i", "0.1", "--no-summary", "--", "sh", "-c", `date +%s%N > ${mark}; sleep 0.5`],
        "piped",
      );
      const reader = child.stderr.getReader();
      await reader.read(); // first sample line
      toSample.push(Date.now() - t0);
      await reader.cancel();
      await child.status;
      toChild.push(Number(Deno.readTextFileSync(mark).trim()) / 1e6 - t0);
    }
    Deno.writeTextFileSync(`${dir}/empty.ts`, "");
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await new Deno.Command(DENO, { args: ["run", `${dir}/empty.ts`], env: ENV, clearEnv: true })
        .output();
      empty.push(performance.now() - t0);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
  // An idle Deno process, for the memory floor every Deno program pays.
  const idle = new Deno.Command(DENO, {
    args: ["eval", "setInterval(() => {}, 1000)"],
    env: ENV,
    clearEnv: true,
  }).spawn();
  await sleep(3000);
  const idleRss = statusKb(idle.pid, "VmRSS") / 1024;
  idle.kill("SIGKILL");
  await idle.status;
  return {
    exec_to_child_running_ms: quantile(toChild, 0.5),
    exec_to_first_sample_ms_at_0_1s: quantile(toSample, 0.5),
    empty_deno_script_ms: quantile(empty, 0.5),
    idle_deno_rss_mib: idleRss,
  };
}

const herd = new IdleHerd();
const results: Record<string, unknown> = {
  machine: {
    cpu: /model name\s*:\s*(.*)/.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ?? "?",
    cores: navigator.hardwareConcurrency,
    kernel: Deno.osRelease(),
    deno: Deno.version.deno,
  },
};
try {
  const per: PerSample[] = [];
  for (const n of [100, 1000, 5000]) per.push(...await perSample(n, herd));
  results.per_sample = per;
  await herd.stop();

  const runs: RunFigures[] = [];
  for (const extra of [100, 2000]) {
    await herd.resize(countProcs() + extra);
    for (const mode of ["system", "system+tree(50)"]) {
      runs.push(await trackerRun(mode, 1, RUN_SECS));
    }
    runs.push(await trackerRun("system+tree(50)", 0.1, Math.min(RUN_SECS, 20)));
    await herd.stop();
  }
  results.runs = runs;
  results.startup = await startup();
} finally {
  await herd.stop();
}

console.log(`\nmachine: ${JSON.stringify(results.machine)}`);
console.log("\nper-sample collection (in-process)");
console.log("host procs | mode              | median ms | p95 ms");
for (const r of results.per_sample as PerSample[]) {
  console.log(
    `${String(r.host_processes).padStart(10)} | ${r.mode.padEnd(17)} | ${
      r.median_ms.toFixed(3).padStart(9)
    } | ${r.p95_ms.toFixed(3).padStart(6)}`,
  );
}
console.log(`\ntracker process (${RUN_SECS} s runs after 3 s warm-up)`);
console.log(
  "host procs | mode              | interval | CPU % of 1 core | RSS steady MiB | RSS peak MiB",
);
for (const r of results.runs as RunFigures[]) {
  console.log(
    `${String(r.host_processes).padStart(10)} | ${r.mode.padEnd(17)} | ${
      String(r.interval_s).padStart(8)
    } | ${r.cpu_pct_of_one_core.toFixed(3).padStart(15)} | ${
      r.rss_steady_mib.toFixed(1).padStart(14)
    } | ${r.rss_peak_mib.toFixed(1).padStart(12)}`,
  );
}
console.log("\nstart-up");
for (const [k, v] of Object.entries(results.startup as Record<string, number>)) {
  console.log(`${k}: ${v.toFixed(1)}`);
}
writeJson(values.out, results);
console.log(`\nwritten ${values.out}`);
