/**
 * One tracking run: system-only, wrapper (`-- COMMAND`) or attach (`--pid`). Wires the sampler,
 * the sinks, the supervisor and the background discoveries together; owns the exit code.
 */
import type { CloudDiscovery } from "../clouds/mod.ts";
import { EMPTY_CLOUD } from "../clouds/types.ts";
import type { GpuCollector } from "../collectors/gpu/mod.ts";
import type { HostInfo } from "../collectors/host.ts";
import { readPidStat } from "../collectors/process.ts";
import { createSinks, type SinkSet } from "../sinks/mod.ts";
import { sinkSettings } from "../cli/sink_settings.ts";
import { openPrivateFile } from "../base/safe_open.ts";
import type { Config } from "../cli/config.ts";
import { releaseEarlySignals } from "./early_signals.ts";
import { guardFlush } from "./flush_guard.ts";
import { childrenUsage } from "../base/libc.ts";
import type { JobCgroup } from "./cgroup_job.ts";
import { oneLine, UsageError } from "../base/errors.ts";
import { writeAllSync, writeWithin } from "../base/log.ts";
import { runLoop } from "./loop.ts";
import type { ProcessTracker } from "./process_tracker.ts";
import { Adopter, exitCodeOf, forwardSignals, spawnCommand } from "./supervisor.ts";

export interface RunDeps {
  version: string;
  env: (name: string) => string | undefined;
  warn: (line: string) => void;
}

/**
 * Without a command these end the run gracefully (flush, exit 0): SIGHUP too (hang-up), and the
 * signals whose default action would kill the tracker unflushed (SIGQUIT, SIGUSR1/2, SIGALRM).
 */
const STOP_SIGNALS: readonly Deno.Signal[] = [
  "SIGINT",
  "SIGTERM",
  "SIGHUP",
  "SIGQUIT",
  "SIGUSR1",
  "SIGUSR2",
  "SIGALRM",
];

/** The GPU collector unless disabled (its modules load on first use, off the start-up path). */
export async function gpuFor(
  config: Config,
  warn: (l: string) => void,
): Promise<GpuCollector | undefined> {
  if (config.values.get("no-gpu") === true) return undefined;
  const { createGpuCollector } = await import("../collectors/gpu/mod.ts");
  return createGpuCollector({
    roots: config.roots,
    nvidiaSmi: config.values.get("nvidia-smi") as string,
    warn,
  });
}

/** Host facts once: the GPU part waits for the first GPU reading (bounded). */
export async function hostFacts(config: Config, gpu: GpuCollector | undefined): Promise<HostInfo> {
  const { firstReading, gpuHostFacts } = await import("../collectors/gpu/mod.ts");
  const { deriveHost, readHostInputs } = await import("../collectors/host.ts");
  const facts = gpu ? gpuHostFacts((await firstReading(gpu, 5000)).devices) : gpuHostFacts([]);
  return deriveHost(readHostInputs(config.roots, facts));
}

/**
 * The sampler, its collectors and the summary: not needed to start the command, so they load
 * while it starts (~5 ms less from exec to the command running, 13 fewer modules before it).
 */
function loadSampling() {
  return Promise.all([
    import("./sampler.ts"),
    import("./process_tracker.ts"),
    import("../report/summary.ts"),
    import("./warmup.ts"),
    import("./cgroup_monitor.ts"),
    import("./cgroup_summary.ts"),
    import("../collectors/energy/mod.ts"),
  ]).then(([sampler, tracker, summary, warmup, monitor, forensics, energy]) => ({
    CgroupMonitor: monitor.CgroupMonitor,
    CgroupForensics: forensics.CgroupForensics,
    formatCgroupLines: forensics.formatCgroupLines,
    detectEnergyMeter: energy.detectEnergyMeter,
    Sampler: sampler.Sampler,
    ProcessTracker: tracker.ProcessTracker,
    SummaryBuilder: summary.SummaryBuilder,
    formatSummary: summary.formatSummary,
    warmUp: warmup.warmUp,
  }));
}

/**
 * Cloud discovery in the background, only when something will use its answer; it starts when
 * `start` resolves (after the wrapped command is spawned, so start-up does not load it).
 */
function startCloud(
  config: Config,
  env: RunDeps["env"],
  wanted: boolean,
  start: Promise<void>,
): (maxWaitMs: number) => Promise<CloudDiscovery | null> {
  const disabled = config.values.get("no-cloud") === true;
  if (disabled || !wanted) return () => Promise.resolve(null);
  const only = config.values.get("cloud") as string | undefined;
  const running = start.then(async () => {
    const { discoverCloud } = await import("../clouds/mod.ts");
    return await discoverCloud({ sys: config.roots.sys, env, ...(only ? { only } : {}) });
  }).catch(() => null);
  // Callers may wait a bounded time; discovery itself ends by its own 2.5 s deadline.
  return (maxWaitMs: number) =>
    Promise.race([
      running,
      new Promise<null>((r) => {
        const t = setTimeout(() => r(null), maxWaitMs);
        running.finally(() => clearTimeout(t));
      }),
    ]);
}

/** USER_HZ, as TICKS_PER_SEC of sampler.ts (not imported: the sampler loads after the spawn). */
const TPS = 100;

/** Whether `pid` runs (and, given its start time, is still the same process: PIDs get reused). */
function pidExists(proc: string, pid: number, start?: number): boolean {
  const st = readPidStat(proc, pid);
  return st !== undefined && st.state !== "Z" && st.state !== "X" &&
    (start === undefined || st.starttime === start);
}

/**
 * A procfs root must at least have a `stat` entry: a mistyped `--procfs` would otherwise give
 * all-zero samples and exit 0 (recorded fixture trees have one). What the entry holds is the
 * collectors' business: garbage there gives empty parts, as anywhere else.
 */
function checkProcRoot(proc: string): void {
  try {
    Deno.statSync(`${proc}/stat`);
  } catch {
    throw new UsageError(`--procfs ${proc}: not a procfs root (no ${proc}/stat)`);
  }
}

export async function track(config: Config, deps: RunDeps): Promise<number> {
  const { warn } = deps;
  checkProcRoot(config.roots.proc);
  const wrap = config.command.length > 0;
  const attachPid = wrap ? null : config.pid;
  if (attachPid !== null && !pidExists(config.roots.proc, attachPid)) {
    throw new UsageError(`--pid ${attachPid}: no such process`);
  }
  const attachStart = attachPid === null
    ? undefined
    : readPidStat(config.roots.proc, attachPid)?.starttime;
  const tracked = wrap || attachPid !== null;
  const wantJob = config.values.get("cgroup") === true;
  const memoryMax = config.values.get("memory-max") as number | undefined;
  const cpuMax = config.values.get("cpu-max") as number | undefined;
  const waitDescendants = config.values.get("wait-descendants") === true;
  if ((memoryMax !== undefined || cpuMax !== undefined) && !wantJob) {
    throw new UsageError(`--${memoryMax !== undefined ? "memory" : "cpu"}-max needs --cgroup`);
  }
  if ((wantJob || waitDescendants) && !wrap) {
    throw new UsageError(`--${wantJob ? "cgroup" : "wait-descendants"} needs a command to run`);
  }
  const wantsCloud = tracked || !!(deps.env("SENTINEL_API_TOKEN") || deps.env("SENTINEL_API_KEY"));
  // What is not needed to start the command waits until it runs.
  let started!: () => void;
  const afterSpawn = new Promise<void>((r) => (started = r));
  const cloud = startCloud(config, deps.env, wantsCloud, afterSpawn);
  const gpuReady = afterSpawn.then(() => gpuFor(config, warn));
  let host: Promise<HostInfo> | undefined;
  const sinks: SinkSet = await createSinks({
    settings: sinkSettings(config),
    views: async (ctx, destinations) => (await import("./views.ts")).viewSinks(ctx, destinations),
    env: deps.env,
    warn,
    run: {
      metadata: { ...config.metadata },
      tags: { ...config.tags },
      command: wrap ? config.command : null,
      host: async () => ({ ...await (host ??= gpuReady.then((gpu) => hostFacts(config, gpu))) }),
      cloud: async (maxWaitMs) => ({ ...((await cloud(maxWaitMs))?.info ?? EMPTY_CLOUD) }),
    },
  });

  // Wrapper mode: the child starts at once; the baseline follows right after the spawn.
  let child: Deno.ChildProcess | undefined;
  let adopter: Adopter | undefined;
  /** What we had reaped before the spawn: the run's totals are measured from here. */
  let reapedBefore: ReturnType<typeof childrenUsage>;
  let tracker: ProcessTracker | undefined;
  let job: JobCgroup | undefined;
  if (wrap) {
    const subreaper = Adopter.enable();
    if (wantJob) job = await createJobCgroup(memoryMax, cpuMax, warn);
    reapedBefore = childrenUsage();
    try {
      if (job) {
        const spawned = spawnInJob(job, config.command);
        child = spawned.child;
        if (spawned.refused !== undefined) {
          warn(
            `--cgroup: cannot enter the job's cgroup (${
              oneLine(spawned.refused)
            }); tracking the process tree instead`,
          );
          await job.remove();
          job = undefined;
        }
      } else {
        child = spawnCommand(config.command);
      }
    } catch (err) {
      await job?.remove();
      started(); // let registration finish with host facts before the run is closed
      await sinks.close({ exitCode: exitOf(err) });
      await (await gpuReady)?.close();
      throw err;
    }
    adopter = new Adopter("/proc", child.pid, subreaper);
  }
  const {
    Sampler,
    ProcessTracker,
    SummaryBuilder,
    formatSummary,
    warmUp,
    CgroupMonitor,
    CgroupForensics,
    formatCgroupLines,
    detectEnergyMeter,
  } = await loadSampling();
  if (child && adopter) {
    const a = adopter, before = reapedBefore;
    // The child's PID is in our PID namespace: its tree is read from our own /proc. We reap the
    // command and its orphans: what we reaped is the part of the tree that left it (tree_delta).
    const outside = before
      ? () => {
        const now = childrenUsage();
        return now && {
          u: Math.floor((now.uUs - before.uUs) * TPS / 1e6),
          s: Math.floor((now.sUs - before.sUs) * TPS / 1e6),
          read: now.read - before.read,
          write: now.write - before.write,
        };
      }
      : undefined;
    tracker = new ProcessTracker("/proc", child.pid, {
      extraRoots: () => a.adopted(),
      ...(outside ? { outside } : {}),
    });
  } else if (attachPid !== null) {
    tracker = new ProcessTracker(config.roots.proc, attachPid, {
      ...(attachStart !== undefined ? { rootStart: attachStart } : {}),
    });
  }
  started();
  const gpu = await gpuReady;

  const energy = detectEnergyMeter({
    sys: config.roots.sys,
    warn,
    maxGapSecs: 3 * config.interval,
  }, gpu !== undefined);
  const sampler = new Sampler({
    ...(energy ? { energy } : {}),
    roots: config.roots,
    jobName: config.metadata.job_name ?? null,
    version: deps.version,
    warn,
    ...(gpu ? { gpu } : {}),
    ...(tracker ? { process: tracker } : {}),
    ...(job
      ? {
        cgroups: new CgroupMonitor({
          proc: config.roots.proc,
          sys: config.roots.sys,
          pid: child!.pid,
          job: job.dirs,
        }),
      }
      : {}),
  });

  const stop = new AbortController();
  let finalMinMs = 100;
  const finish = () => {
    finalMinMs = 0; // the job ended: its last partial interval always counts
    stop.abort();
  };
  let childStatus: Deno.CommandStatus | undefined;
  const cleanups: (() => void)[] = [];
  const early = releaseEarlySignals();
  if (child) {
    cleanups.push(forwardSignals(child.pid, (sig) => {
      // While `--wait-descendants` waits, signals go to what the command left behind.
      if (!childStatus || !adopter) return;
      for (const pid of new Set([...adopter.adopted(), ...(job?.pids() ?? [])])) {
        try {
          Deno.kill(pid, sig);
        } catch { /* already gone */ }
      }
    }));
    for (const sig of early) {
      try {
        Deno.kill(child.pid, sig);
      } catch { /* already gone */ }
    }
    child.status.then(async (st) => {
      childStatus = st;
      if (waitDescendants && adopter) {
        await descendantsGone(adopter, job, Math.min(250, config.interval * 1000), stop.signal);
      }
      finish();
    });
  } else {
    const onSignal = () => stop.abort();
    for (const sig of STOP_SIGNALS) Deno.addSignalListener(sig, onSignal);
    cleanups.push(() => STOP_SIGNALS.forEach((sig) => Deno.removeSignalListener(sig, onSignal)));
    if (early.some((sig) => STOP_SIGNALS.includes(sig))) stop.abort();
  }
  let attachedEnded = false;
  if (attachPid !== null) {
    // Notice the end of an attached process within 250 ms, not one interval.
    const t = setInterval(() => {
      if (!pidExists(config.roots.proc, attachPid, attachStart)) {
        attachedEnded = true;
        finish();
      }
    }, Math.min(250, config.interval * 1000));
    cleanups.push(() => clearInterval(t));
  }

  const summary = new SummaryBuilder(config.interval);
  let unreadableWarned = false;
  let guard: ReturnType<typeof guardFlush>;
  const forensics = new CgroupForensics();
  let warming: Promise<void> | undefined;
  const startedMs = Date.now();
  try {
    await runLoop({
      intervalMs: config.interval * 1000,
      collect: (wallMs, actual) => {
        // The command has been reaped: its last interval is in what we reaped (tree_delta).
        if (childStatus) adopter?.reap();
        return sampler.collect(wallMs, actual);
      },
      emit: (sample) => {
        summary.add(sample);
        const unread = sample.cpu.process_unreadable_count ?? 0;
        if (unread > 0 && !unreadableWarned) {
          unreadableWarned = true;
          warn(
            `${unread} of ${(sample.cpu.process_child_count ?? 0) + 1} processes of the tracked ` +
              `tree cannot be read (no access to their smaps_rollup or io): their memory and disk ` +
              `I/O count as 0 (see process_unreadable_count and the summary)`,
          );
        }
        forensics.add(sample);
        sinks.write(sample);
        // After the first sample, so short runs never pay for it.
        warming ??= warmUp(config.roots, stop.signal).catch(() => {});
      },
      afterEmit: () => adopter?.reap(),
      stop: stop.signal,
      finalMinMs: () => finalMinMs,
      maxSamples: wrap ? null : config.samples,
    });
  } finally {
    // Installed before the run's own handlers go, so no moment is left without one.
    guard = guardFlush();
    cleanups.forEach((c) => c());
  }
  stop.abort(); // ends a warm-up still running (e.g. after --samples)
  await warming;
  const exitCode = childStatus ? exitCodeOf(childStatus) : 0;
  // Every cgroup the job was seen in, once more: kills between the last two samples count.
  const seenCgroups = sampler.cgroups.finish();
  if (job) {
    const left = await job.remove();
    if (left > 0) {
      warn(
        `--cgroup: ${left} process(es) still running after the command exited were moved out of the job's cgroup (--wait-descendants waits for them)`,
      );
    }
  }
  await sinks.close({ exitCode, signal: guard.signal });
  adopter?.reap();
  // The job's limits, read once at exit for the run record and the summary's right-sizing.
  const limits = await readLimits(config);
  await writeRunRecord(config, deps, {
    limits,
    command: wrap ? config.command : null,
    trackedPid: tracker?.pid ?? null,
    // An attached process is not our child: its exit status is not ours to see.
    exitCode: childStatus ? exitCode : null,
    startedMs,
    energyDomains: energy?.domains ?? [],
    energyTotals: energy?.totals ?? {},
    host: () => (host ??= hostFacts(config, gpu)),
    cloud: async () => ({ ...((await cloud(0))?.info ?? EMPTY_CLOUD) }),
  });
  await gpu?.close();

  if (tracked) {
    const discovery = await cloud(0);
    const report = summary.build({
      command: wrap ? config.command : null,
      trackedPid: tracker?.pid ?? null,
      // An attached process is not our child: its exit status is not ours to see.
      exitCode: childStatus ? exitCode : null,
      end: childStatus ? "exited" : attachedEnded ? "ended" : "stopped",
      durationSecs: (Date.now() - startedMs) / 1000,
      cloud: discovery?.info ? { ...discovery.info } : null,
      metadata: config.metadata,
      tags: config.tags,
      memoryLimitMib: limits.memoryMib,
      cpuLimitCores: limits.cpuCores,
    });
    report.cgroup = forensics.build(seenCgroups, {
      job: job !== undefined,
      ...(job && tracker
        ? { treeCpuSecs: (tracker.reported.u + tracker.reported.s) / TICKS_PER_SEC }
        : {}),
    });
    const x = report.cgroup?.cross_check;
    const quiet = config.values.get("no-summary") === true;
    // The summary states it too; without one it is a warning line of its own.
    if (x?.warning && quiet) {
      warn(
        `--cgroup: the process tree's CPU (${x.tree_cpu_secs.toFixed(2)} s) and the job cgroup's (${
          x.cgroup_cpu_secs.toFixed(2)
        } s) differ by ${
          x.difference_pct.toFixed(1)
        } %: a process escaped the tree or was counted twice`,
      );
    }
    const cgroupLines = report.cgroup
      ? formatCgroupLines(report.cgroup, { exitCode, durationSecs: report.duration_secs })
      : [];
    if (!quiet) {
      await writeWithin(formatSummary(report) + cgroupLines.map((l) => l + "\n").join(""), 2_000);
    }
    const jsonPath = config.values.get("summary-json") as string | undefined;
    if (jsonPath) {
      // The command's exit code stays what it was even if the summary cannot be written.
      try {
        const f = openPrivateFile(jsonPath);
        try {
          writeAllSync(f, JSON.stringify(report, null, 2) + "\n");
        } finally {
          f.close();
        }
      } catch (err) {
        warn(`run summary not written: ${oneLine(err)}`);
      }
    }
  }
  guard.release(); // main exits right after
  return exitCode;
}

/** USER_HZ (the tree's CPU ticks); sampler.ts holds the same constant, loaded later. */
const TICKS_PER_SEC = 100;

/** The job's cgroup, or undefined (after one line saying why) to go on in tree mode. */
async function createJobCgroup(
  memoryMax: number | undefined,
  cpuMax: number | undefined,
  warn: (line: string) => void,
): Promise<JobCgroup | undefined> {
  const { JobCgroup } = await import("./cgroup_job.ts");
  const made = JobCgroup.create({ memoryMax, cpuMax });
  if (typeof made !== "string") return made;
  warn(`--cgroup: ${made}; tracking the process tree instead`);
  return undefined;
}

/**
 * Spawns inside the job's cgroup. When the tracker may not enter it, the command starts outside
 * and `refused` says why: the caller says so, removes the cgroup and goes on in tree mode.
 */
function spawnInJob(
  job: JobCgroup,
  argv: readonly string[],
): { child: Deno.ChildProcess; refused?: unknown } {
  let refused: unknown;
  try {
    const child = spawnCommand(argv, () => {
      try {
        job.enter();
      } catch (err) {
        refused = err;
      }
    });
    return refused === undefined ? { child } : { child, refused };
  } finally {
    job.leave();
  }
}

/**
 * `--wait-descendants`: resolves once no process the command left behind is alive: none of the
 * orphans we adopted (as subreaper or PID 1; they are reaped meanwhile) and, with `--cgroup`,
 * nothing left in the job's cgroup.
 */
async function descendantsGone(
  adopter: Adopter,
  job: JobCgroup | undefined,
  pollMs: number,
  stop: AbortSignal,
): Promise<void> {
  while (!stop.aborted) {
    adopter.reap();
    const live = adopter.adopted().filter((pid) => pidExists("/proc", pid));
    if (live.length === 0 && (job === undefined || job.pids().length === 0)) return;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

interface Limits {
  /** The cgroup's memory limit, MiB, or null. */
  memoryMib: number | null;
  /** The CFS quota in cores, or null. */
  cpuCores: number | null;
}

async function readLimits(config: Config): Promise<Limits> {
  const [{ memoryLimitMib }, { readQuotaCores }] = await Promise.all([
    import("../report/sidecar.ts"),
    import("../collectors/cgroup.ts"),
  ]);
  return {
    memoryMib: memoryLimitMib(config.roots.sys, config.roots.proc),
    cpuCores: readQuotaCores(config.roots.sys) ?? null,
  };
}

/** `FILE.run.json` beside each sample file, for `report` and `replay` (report/sidecar.ts). */
async function writeRunRecord(
  config: Config,
  deps: RunDeps,
  o: {
    limits: Limits;
    command: readonly string[] | null;
    trackedPid: number | null;
    exitCode: number | null;
    startedMs: number;
    /** Energy counters found (collectors/energy); GPUs are counted from their samples. */
    energyDomains: string[];
    /** Joules per device measured in this run. */
    energyTotals: Readonly<Record<string, number>>;
    host: () => Promise<HostInfo>;
    cloud: () => Promise<Record<string, unknown>>;
  },
): Promise<void> {
  const { sampleFiles, writeRunRecords } = await import("../report/sidecar.ts");
  let lifetime: Record<string, number> | null = null;
  if (Object.keys(o.energyTotals).length > 0) {
    // The host's lifetime joules per device, kept across runs (collectors/energy/lifetime.ts).
    const { addLifetime, defaultLifetimePath } = await import("../collectors/energy/lifetime.ts");
    try {
      lifetime = addLifetime(defaultLifetimePath(deps.env), o.energyTotals).devices;
    } catch (err) {
      deps.warn(`lifetime energy not updated: ${oneLine(err)}`);
    }
  }
  const files = sampleFiles(config);
  if (files.length === 0) return;
  writeRunRecords(files, {
    resource_tracker_run: 1,
    version: deps.version,
    command: o.command,
    tracked_pid: o.trackedPid,
    exit_code: o.exitCode,
    started_at: new Date(o.startedMs).toISOString(),
    finished_at: new Date().toISOString(),
    interval_secs: config.interval,
    metadata: { ...config.metadata },
    tags: { ...config.tags },
    host: { ...await o.host().catch(() => ({})) },
    cloud: await o.cloud().catch(() => ({})),
    memory_limit_mib: o.limits.memoryMib,
    cpu_quota_cores: o.limits.cpuCores,
    energy: {
      domains: o.energyDomains,
      run_joules: { ...o.energyTotals },
      lifetime_joules: lifetime,
    },
  }, deps.warn);
}

function exitOf(err: unknown): number {
  return typeof (err as { exitCode?: unknown })?.exitCode === "number"
    ? (err as { exitCode: number }).exitCode
    : 1;
}
