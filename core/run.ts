/**
 * One tracking run: system-only, wrapper (`-- COMMAND`) or attach (`--pid`). Wires the sampler,
 * the sinks, the supervisor and the background discoveries together; owns the exit code.
 * `track` reads as its phases: check, open the sinks, spawn, sample until a stop condition,
 * close with kernel accounting, write the summary.
 */
import type { CloudDiscovery } from "../clouds/mod.ts";
import type { GpuCollector } from "../collectors/gpu/mod.ts";
import type { HostInfo } from "../collectors/host.ts";
import type { Sample } from "../base/sample.ts";
import type { RunInfo, SinkSet } from "../sinks/mod.ts";
import { releaseEarlySignals } from "./early_signals.ts";
import type { FlushGuard } from "./flush_guard.ts";
import { childrenUsage } from "../base/libc.ts";
import type { JobCgroup } from "./cgroup_job.ts";
import { oneLine, UsageError } from "../base/errors.ts";
import type { ProcessTracker } from "./process_tracker.ts";
import type { CloudSettings, GpuSettings, SamplingSettings, TrackSettings } from "./settings.ts";
import type { Adopter } from "./adopter.ts";
import { enableSubreaper, exitCodeOf, forwardSignals, spawnCommand } from "./supervisor.ts";

export interface RunDeps {
  version: string;
  env: (name: string) => string | undefined;
  warn: (line: string) => void;
  /** Opens the sinks for this run (cli/track.ts: `createSinks`). */
  openSinks(run: RunInfo): Promise<SinkSet>;
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
  gpu: GpuSettings,
  roots: SamplingSettings["roots"],
  warn: (l: string) => void,
): Promise<GpuCollector | undefined> {
  if (gpu.disabled) return undefined;
  const { createGpuCollector } = await import("../collectors/gpu/mod.ts");
  return createGpuCollector({ roots, nvidiaSmi: gpu.nvidiaSmi, warn });
}

/** Host facts once: the GPU part waits for the first GPU reading (bounded). */
export async function hostFacts(
  roots: SamplingSettings["roots"],
  gpu: GpuCollector | undefined,
): Promise<HostInfo> {
  const { firstReading, gpuHostFacts } = await import("../collectors/gpu/mod.ts");
  const { deriveHost, readHostInputs } = await import("../collectors/host.ts");
  const facts = gpu ? gpuHostFacts((await firstReading(gpu, 5000)).devices) : gpuHostFacts([]);
  return deriveHost(readHostInputs(roots, facts));
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
    import("./loop.ts"),
    import("./run_end.ts"),
    import("./adopter.ts"),
    import("./flush_guard.ts"),
  ]).then((
    [sampler, tracker, summary, warmup, monitor, forensics, energy, loop, end, adopter, flush],
  ) => ({
    Adopter: adopter.Adopter,
    guardFlush: flush.guardFlush,
    CgroupMonitor: monitor.CgroupMonitor,
    CgroupForensics: forensics.CgroupForensics,
    detectEnergyMeter: energy.detectEnergyMeter,
    Sampler: sampler.Sampler,
    TICKS_PER_SEC: sampler.TICKS_PER_SEC,
    ProcessTracker: tracker.ProcessTracker,
    SummaryBuilder: summary.SummaryBuilder,
    warmUp: warmup.warmUp,
    runLoop: loop.runLoop,
    end,
  }));
}
type Sampling = Awaited<ReturnType<typeof loadSampling>>;

/**
 * Cloud discovery in the background, only when something will use its answer; it starts when
 * `start` resolves (after the wrapped command is spawned, so start-up does not load it).
 */
function startCloud(
  cloud: CloudSettings,
  sys: string,
  env: RunDeps["env"],
  wanted: boolean,
  start: Promise<void>,
): (maxWaitMs: number) => Promise<CloudDiscovery | null> {
  if (cloud.disabled || !wanted) return () => Promise.resolve(null);
  const only = cloud.only;
  const running = start.then(async () => {
    const { discoverCloud } = await import("../clouds/mod.ts");
    return await discoverCloud({ sys, env, ...(only ? { only } : {}) });
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

/** The cloud_* fields of a discovery, nulls when there is none. */
async function cloudInfo(d: CloudDiscovery | null): Promise<Record<string, unknown>> {
  return { ...(d?.info ?? (await import("../clouds/types.ts")).EMPTY_CLOUD) };
}

/** Whether a process runs (given its start time, still the same one: PIDs get reused). */
type PidExists = (pid: number, start?: number) => boolean;

/** Reads a process's stat; its module loads only when a run needs it (attach, wait). */
async function pidStatReader(proc: string) {
  const { readPidStat } = await import("../collectors/process.ts");
  return (pid: number) => readPidStat(proc, pid);
}

function pidExistsWith(stat: Awaited<ReturnType<typeof pidStatReader>>): PidExists {
  return (pid, start) => {
    const st = stat(pid);
    return st !== undefined && st.state !== "Z" && st.state !== "X" &&
      (start === undefined || st.starttime === start);
  };
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

/** What the run tracks, checked before anything starts. */
interface Target {
  /** Wrapper mode: the command to spawn. */
  wrap: boolean;
  /** Attach mode: the process and its start time. */
  attach: { pid: number; start: number | undefined; exists: PidExists } | null;
  /** A command or a process: the run ends with a summary. */
  tracked: boolean;
}

async function checkTarget(s: TrackSettings): Promise<Target> {
  const { roots } = s.sampling;
  checkProcRoot(roots.proc);
  const wrap = s.job.command.length > 0;
  const attachPid = wrap ? null : s.sampling.pid;
  let attach: Target["attach"] = null;
  if (attachPid !== null) {
    const stat = await pidStatReader(roots.proc);
    const exists = pidExistsWith(stat);
    if (!exists(attachPid)) throw new UsageError(`--pid ${attachPid}: no such process`);
    attach = { pid: attachPid, start: stat(attachPid)?.starttime, exists };
  }
  const { cgroup, memoryMax, cpuMax, waitDescendants } = s.job;
  if ((memoryMax !== null || cpuMax !== null) && !cgroup) {
    throw new UsageError(`--${memoryMax !== null ? "memory" : "cpu"}-max needs --cgroup`);
  }
  if ((cgroup || waitDescendants) && !wrap) {
    throw new UsageError(`--${cgroup ? "cgroup" : "wait-descendants"} needs a command to run`);
  }
  return { wrap, attach, tracked: wrap || attach !== null };
}

/** Cloud, GPU and host facts: started in the background, held until the command runs. */
interface Background {
  /** Opens the gate: what waits for the spawn may start. */
  started(): void;
  cloud(maxWaitMs: number): Promise<CloudDiscovery | null>;
  gpu: Promise<GpuCollector | undefined>;
  host(): Promise<HostInfo>;
}

function startBackground(s: TrackSettings, deps: RunDeps, target: Target): Background {
  const wantsCloud = target.tracked ||
    !!(deps.env("SENTINEL_API_TOKEN") || deps.env("SENTINEL_API_KEY"));
  // What is not needed to start the command waits until it runs.
  let started!: () => void;
  const afterSpawn = new Promise<void>((r) => (started = r));
  const { roots } = s.sampling;
  const gpu = afterSpawn.then(() => gpuFor(s.gpu, roots, deps.warn));
  let host: Promise<HostInfo> | undefined;
  return {
    started,
    cloud: startCloud(s.cloud, roots.sys, deps.env, wantsCloud, afterSpawn),
    gpu,
    host: () => (host ??= gpu.then((g) => hostFacts(roots, g))),
  };
}

/** The spawned command and what watches over it. */
interface Spawned {
  child: Deno.ChildProcess;
  /** Whether orphans of the command re-parent to us (core/adopter.ts). */
  subreaper: boolean;
  /** The job's cgroup (`--cgroup`), unless it could not be made or entered. */
  job: JobCgroup | undefined;
  /** What we had reaped before the spawn: the run's totals are measured from here. */
  reapedBefore: ReturnType<typeof childrenUsage>;
}

/**
 * Wrapper mode: spawns the command at once (in the job's cgroup with `--cgroup`). On failure the
 * sinks close with the error's exit code before it is thrown on.
 */
async function spawnWrapped(
  s: TrackSettings,
  deps: RunDeps,
  sinks: SinkSet,
  bg: Background,
): Promise<Spawned> {
  const subreaper = enableSubreaper();
  let job: JobCgroup | undefined;
  if (s.job.cgroup) job = await createJobCgroup(s.job.memoryMax, s.job.cpuMax, deps.warn);
  const reapedBefore = childrenUsage();
  let child: Deno.ChildProcess;
  try {
    if (job) {
      const { spawnInJob } = await import("./cgroup_job.ts");
      const spawned = spawnInJob(job, s.job.command);
      child = spawned.child;
      if (spawned.refused !== undefined) {
        deps.warn(
          `--cgroup: cannot enter the job's cgroup (${
            oneLine(spawned.refused)
          }); tracking the process tree instead`,
        );
        await job.remove();
        job = undefined;
      }
    } else {
      child = spawnCommand(s.job.command);
    }
  } catch (err) {
    await job?.remove();
    bg.started(); // let registration finish with host facts before the run is closed
    await sinks.close({ exitCode: exitOf(err) });
    await (await bg.gpu)?.close();
    throw err;
  }
  return { child, subreaper, job, reapedBefore };
}

/** The spawned command once the sampling modules are loaded: its orphans are adopted too. */
interface Watched extends Spawned {
  adopter: Adopter;
}

/** The job's cgroup, or undefined (after one line saying why) to go on in tree mode. */
async function createJobCgroup(
  memoryMax: number | null,
  cpuMax: number | null,
  warn: (line: string) => void,
): Promise<JobCgroup | undefined> {
  const { JobCgroup } = await import("./cgroup_job.ts");
  const made = JobCgroup.create({ memoryMax: memoryMax ?? undefined, cpuMax: cpuMax ?? undefined });
  if (typeof made !== "string") return made;
  warn(`--cgroup: ${made}; tracking the process tree instead`);
  return undefined;
}

/** The tracked process tree: the spawned command's (with what it orphans), or the attached one. */
function treeTracker(
  lib: Sampling,
  s: TrackSettings,
  target: Target,
  spawned: Watched | undefined,
): ProcessTracker | undefined {
  if (spawned) {
    const { adopter, reapedBefore: before } = spawned;
    const tps = lib.TICKS_PER_SEC;
    // The child's PID is in our PID namespace: its tree is read from our own /proc. We reap the
    // command and its orphans: what we reaped is the part of the tree that left it (tree_delta).
    const outside = before
      ? () => {
        const now = childrenUsage();
        return now && {
          u: Math.floor((now.uUs - before.uUs) * tps / 1e6),
          s: Math.floor((now.sUs - before.sUs) * tps / 1e6),
          read: now.read - before.read,
          write: now.write - before.write,
        };
      }
      : undefined;
    return new lib.ProcessTracker("/proc", spawned.child.pid, {
      extraRoots: () => adopter.adopted(),
      ...(outside ? { outside } : {}),
    });
  }
  if (target.attach) {
    const { pid, start } = target.attach;
    return new lib.ProcessTracker(s.sampling.roots.proc, pid, {
      ...(start !== undefined ? { rootStart: start } : {}),
    });
  }
  return undefined;
}

/** When the run ends: the command exits, the attached process ends, a signal, `--samples`. */
interface StopConditions {
  readonly signal: AbortSignal;
  /** Aborts the run (ends a warm-up still running too). */
  abort(): void;
  /** The last partial interval's minimum to get a sample (0 once the job ended). */
  finalMinMs(): number;
  /** The command's exit status, once it exited. */
  childStatus(): Deno.CommandStatus | undefined;
  /** Whether the attached process ended (not a signal to us). */
  attachedEnded(): boolean;
  /** Removes the signal handlers and timers. */
  dispose(): void;
}

function stopConditions(
  s: TrackSettings,
  target: Target,
  spawned: Watched | undefined,
  pidExists: PidExists | undefined,
): StopConditions {
  const stop = new AbortController();
  let finalMinMs = 100;
  const finish = () => {
    finalMinMs = 0; // the job ended: its last partial interval always counts
    stop.abort();
  };
  const intervalMs = s.sampling.intervalSecs * 1000;
  let childStatus: Deno.CommandStatus | undefined;
  let attachedEnded = false;
  const cleanups: (() => void)[] = [];
  const early = releaseEarlySignals();
  if (spawned) {
    const { child, adopter, job } = spawned;
    cleanups.push(forwardSignals(child.pid, (sig) => {
      // While `--wait-descendants` waits, signals go to what the command left behind.
      if (!childStatus) return;
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
      if (s.job.waitDescendants && pidExists) {
        await descendantsGone(spawned, pidExists, Math.min(250, intervalMs), stop.signal);
      }
      finish();
    });
  } else {
    const onSignal = () => stop.abort();
    for (const sig of STOP_SIGNALS) Deno.addSignalListener(sig, onSignal);
    cleanups.push(() => STOP_SIGNALS.forEach((sig) => Deno.removeSignalListener(sig, onSignal)));
    if (early.some((sig) => STOP_SIGNALS.includes(sig))) stop.abort();
  }
  if (target.attach) {
    const { pid, start, exists } = target.attach;
    // Notice the end of an attached process within 250 ms, not one interval.
    const t = setInterval(() => {
      if (!exists(pid, start)) {
        attachedEnded = true;
        finish();
      }
    }, Math.min(250, intervalMs));
    cleanups.push(() => clearInterval(t));
  }
  return {
    signal: stop.signal,
    abort: () => stop.abort(),
    finalMinMs: () => finalMinMs,
    childStatus: () => childStatus,
    attachedEnded: () => attachedEnded,
    dispose: () => cleanups.forEach((c) => c()),
  };
}

/**
 * `--wait-descendants`: resolves once no process the command left behind is alive: none of the
 * orphans we adopted (as subreaper or PID 1; they are reaped meanwhile) and, with `--cgroup`,
 * nothing left in the job's cgroup.
 */
async function descendantsGone(
  { adopter, job }: Watched,
  pidExists: PidExists,
  pollMs: number,
  stop: AbortSignal,
): Promise<void> {
  while (!stop.aborted) {
    adopter.reap();
    const live = adopter.adopted().filter((pid) => pidExists(pid));
    if (live.length === 0 && (job === undefined || job.pids().length === 0)) return;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/** The sample stream's consumers: the summary, the cgroup forensics, the sinks, one warning. */
function emitter(
  lib: Sampling,
  s: TrackSettings,
  sinks: SinkSet,
  stop: StopConditions,
  warn: (line: string) => void,
) {
  const summary = new lib.SummaryBuilder(s.sampling.intervalSecs);
  const forensics = new lib.CgroupForensics();
  let unreadableWarned = false;
  let warming: Promise<void> | undefined;
  return {
    summary,
    forensics,
    /** The JIT warm-up, once started (core/warmup.ts). */
    warming: () => warming,
    emit(sample: Sample): void {
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
      warming ??= lib.warmUp(s.sampling.roots, stop.signal).catch(() => {});
    },
  };
}

/** The sampler with everything it reads: GPUs, energy counters, the tree, the job's cgroup. */
function startSampler(
  lib: Sampling,
  s: TrackSettings,
  deps: RunDeps,
  o: { gpu: GpuCollector | undefined; tracker: ProcessTracker | undefined; spawned?: Watched },
) {
  const { roots, intervalSecs } = s.sampling;
  const { warn } = deps;
  const energy = lib.detectEnergyMeter(
    { sys: roots.sys, warn, maxGapSecs: 3 * intervalSecs },
    o.gpu !== undefined,
  );
  const job = o.spawned?.job;
  const sampler = new lib.Sampler({
    ...(energy ? { energy } : {}),
    roots,
    jobName: s.job.metadata.job_name ?? null,
    version: deps.version,
    warn,
    ...(o.gpu ? { gpu: o.gpu } : {}),
    ...(o.tracker ? { process: o.tracker } : {}),
    ...(job
      ? {
        cgroups: new lib.CgroupMonitor({
          proc: roots.proc,
          sys: roots.sys,
          pid: o.spawned!.child.pid,
          job: job.dirs,
        }),
      }
      : {}),
  });
  return { sampler, energy };
}

/**
 * The sampling loop until a stop condition; then the exit-flush guard is up and the warm-up is
 * over. The command's last interval counts what we reaped (tree_delta).
 */
async function sampleUntilStopped(
  lib: Sampling,
  s: TrackSettings,
  o: {
    sampler: InstanceType<Sampling["Sampler"]>;
    out: ReturnType<typeof emitter>;
    stop: StopConditions;
    spawned: Watched | undefined;
    wrap: boolean;
  },
): Promise<FlushGuard> {
  const { stop, spawned } = o;
  let guard: FlushGuard;
  try {
    await lib.runLoop({
      intervalMs: s.sampling.intervalSecs * 1000,
      collect: (wallMs, actual) => {
        // The command has been reaped: its last interval is in what we reaped (tree_delta).
        if (stop.childStatus()) spawned?.adopter.reap();
        return o.sampler.collect(wallMs, actual);
      },
      emit: o.out.emit,
      afterEmit: () => spawned?.adopter.reap(),
      stop: stop.signal,
      finalMinMs: stop.finalMinMs,
      maxSamples: o.wrap ? null : s.sampling.samples,
    });
  } finally {
    // Installed before the run's own handlers go, so no moment is left without one.
    guard = lib.guardFlush();
    stop.dispose();
  }
  stop.abort(); // ends a warm-up still running (e.g. after --samples)
  await o.out.warming();
  return guard;
}

export async function track(s: TrackSettings, deps: RunDeps): Promise<number> {
  const target = await checkTarget(s);
  const bg = startBackground(s, deps, target);
  const sinks = await deps.openSinks({
    metadata: { ...s.job.metadata },
    tags: { ...s.job.tags },
    command: target.wrap ? s.job.command : null,
    host: async () => ({ ...await bg.host() }),
    cloud: async (maxWaitMs) => await cloudInfo(await bg.cloud(maxWaitMs)),
  });

  // Wrapper mode: the child starts at once; the baseline follows right after the spawn.
  const started = target.wrap ? await spawnWrapped(s, deps, sinks, bg) : undefined;
  const lib = await loadSampling();
  const spawned: Watched | undefined = started && {
    ...started,
    adopter: new lib.Adopter("/proc", started.child.pid, started.subreaper),
  };
  const tracker = treeTracker(lib, s, target, spawned);
  bg.started();
  const gpu = await bg.gpu;
  const { sampler, energy } = startSampler(lib, s, deps, {
    gpu,
    tracker,
    ...(spawned ? { spawned } : {}),
  });

  const pidExists = spawned && s.job.waitDescendants
    ? pidExistsWith(await pidStatReader("/proc"))
    : undefined;
  const stop = stopConditions(s, target, spawned, pidExists);
  const out = emitter(lib, s, sinks, stop, deps.warn);
  const startedMs = Date.now();
  const guard = await sampleUntilStopped(lib, s, {
    sampler,
    out,
    stop,
    spawned,
    wrap: target.wrap,
  });

  const childStatus = stop.childStatus();
  const exitCode = childStatus ? exitCodeOf(childStatus) : 0;
  // An attached process is not our child: its exit status is not ours to see.
  const ownExitCode = childStatus ? exitCode : null;
  // Every cgroup the job was seen in, once more: kills between the last two samples count.
  const seenCgroups = sampler.cgroups.finish();
  const limits = await lib.end.closeWithKernelAccounting({
    settings: s,
    deps,
    sinks,
    guard,
    exitCode,
    ...(spawned ? { adopter: spawned.adopter } : {}),
    ...(spawned?.job ? { job: spawned.job } : {}),
  });
  await lib.end.writeRunRecord(s, deps, {
    limits,
    command: target.wrap ? s.job.command : null,
    trackedPid: tracker?.pid ?? null,
    exitCode: ownExitCode,
    startedMs,
    energyDomains: energy?.domains ?? [],
    energyTotals: energy?.totals ?? {},
    host: bg.host,
    cloud: async () => await cloudInfo(await bg.cloud(0)),
  });
  await gpu?.close();

  if (target.tracked) {
    const discovery = await bg.cloud(0);
    const report = out.summary.build({
      command: target.wrap ? s.job.command : null,
      trackedPid: tracker?.pid ?? null,
      exitCode: ownExitCode,
      end: childStatus ? "exited" : stop.attachedEnded() ? "ended" : "stopped",
      durationSecs: (Date.now() - startedMs) / 1000,
      cloud: discovery?.info ? { ...discovery.info } : null,
      metadata: s.job.metadata,
      tags: s.job.tags,
      memoryLimitMib: limits.memoryMib,
      cpuLimitCores: limits.cpuCores,
    });
    report.cgroup = out.forensics.build(seenCgroups, {
      job: spawned?.job !== undefined,
      ...(spawned?.job && tracker
        ? { treeCpuSecs: (tracker.reported.u + tracker.reported.s) / lib.TICKS_PER_SEC }
        : {}),
    });
    await lib.end.writeSummary(report, s.summary, exitCode, deps.warn);
  }
  guard.release(); // main exits right after
  return exitCode;
}

function exitOf(err: unknown): number {
  return typeof (err as { exitCode?: unknown })?.exitCode === "number"
    ? (err as { exitCode: number }).exitCode
    : 1;
}
