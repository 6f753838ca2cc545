/**
 * A tracking run after the spawn (core/run.ts `track` loads this while the command starts, ~5 ms
 * less from exec to the command running): the sampler and its collectors, the stop conditions,
 * the loop, and the end — closing with the kernel's accounting, the run record, the summary.
 */
import type { CloudDiscovery } from "../clouds/mod.ts";
import { detectEnergyMeter, type EnergyMeter } from "../collectors/energy/mod.ts";
import type { GpuCollector } from "../collectors/gpu/mod.ts";
import type { HostInfo } from "../collectors/host.ts";
import { isRunning } from "../collectors/process.ts";
import { childrenUsage } from "../base/libc.ts";
import type { Sample } from "../base/sample.ts";
import { SummaryBuilder } from "../report/summary.ts";
import type { SinkSet } from "../sinks/mod.ts";
import { Adopter } from "./adopter.ts";
import type { JobCgroup } from "./cgroup_job.ts";
import { CgroupMonitor } from "./cgroup_monitor.ts";
import { CgroupForensics } from "./cgroup_summary.ts";
import { releaseEarlySignals } from "./early_signals.ts";
import { type FlushGuard, guardFlush } from "./flush_guard.ts";
import { runLoop } from "./loop.ts";
import { ProcessTracker } from "./process_tracker.ts";
import {
  closeWithKernelAccounting,
  type EndDeps,
  type Limits,
  writeRunRecord,
  writeSummary,
} from "./run_end.ts";
import { Sampler, TICKS_PER_SEC } from "./sampler.ts";
import type { TrackSettings } from "./settings.ts";
import { exitCodeOf, forwardSignals } from "./supervisor.ts";
import { warmUp } from "./warmup.ts";
import { sleep } from "../base/time.ts";

/** What the run tracks, checked before anything starts (core/run.ts `checkTarget`). */
export interface Target {
  /** Wrapper mode: the command to spawn. */
  wrap: boolean;
  /** Attach mode: the process and its start time. */
  attach: { pid: number; start: number | undefined } | null;
  /** A command or a process: the run ends with a summary. */
  tracked: boolean;
}

/** Cloud, GPU and host facts, started in the background (core/run.ts `startBackground`). */
export interface Background {
  /** Opens the gate: what waits for the spawn may start. */
  started(): void;
  cloud(maxWaitMs: number): Promise<CloudDiscovery | null>;
  gpu: Promise<GpuCollector | undefined>;
  host(): Promise<HostInfo>;
  /** The cloud_* fields of the discovery, nulls when there is none. */
  cloudInfo(maxWaitMs: number): Promise<Record<string, unknown>>;
}

/** The spawned command (core/run.ts `spawnWrapped`). */
export interface Spawned {
  child: Deno.ChildProcess;
  /** Whether orphans of the command re-parent to us (core/adopter.ts). */
  subreaper: boolean;
  /** The job's cgroup (`--cgroup`), unless it could not be made or entered. */
  job: JobCgroup | undefined;
  /** What we had reaped before the spawn: the run's totals are measured from here. */
  reapedBefore: ReturnType<typeof childrenUsage>;
}

/** The spawned command with its orphans adopted. */
interface Watched extends Spawned {
  adopter: Adopter;
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

/** The phases after the spawn, in order; returns the exit code. */
export async function trackUntilEnd(
  s: TrackSettings,
  deps: EndDeps,
  run: { target: Target; bg: Background; sinks: SinkSet; spawned: Spawned | undefined },
): Promise<number> {
  const { target, bg, sinks } = run;
  const spawned: Watched | undefined = run.spawned && {
    ...run.spawned,
    adopter: new Adopter("/proc", run.spawned.child.pid, run.spawned.subreaper),
  };
  const tracker = treeTracker(s, target, spawned);
  bg.started();
  const gpu = await bg.gpu;
  const { sampler, energy } = startSampler(s, deps, { gpu, tracker, spawned });
  const stop = stopConditions(s, target, spawned);
  const out = emitter(s, sinks, stop, deps.warn);
  const startedMs = Date.now();
  const guard = await sampleUntilStopped(s, { sampler, out, stop, spawned, wrap: target.wrap });

  const childStatus = stop.childStatus();
  const exitCode = childStatus ? exitCodeOf(childStatus) : 0;
  // An attached process is not our child: its exit status is not ours to see.
  const ownExitCode = childStatus ? exitCode : null;
  // Every cgroup the job was seen in, once more: kills between the last two samples count.
  const seenCgroups = sampler.cgroups.finish();
  const limits = await closeWithKernelAccounting({
    settings: s,
    deps,
    sinks,
    guard,
    exitCode,
    ...(spawned ? { adopter: spawned.adopter } : {}),
    ...(spawned?.job ? { job: spawned.job } : {}),
  });
  await writeRunRecord(s, deps, {
    limits,
    command: target.wrap ? s.job.command : null,
    trackedPid: tracker?.pid ?? null,
    exitCode: ownExitCode,
    startedMs,
    energyDomains: energy?.domains ?? [],
    energyTotals: energy?.totals ?? {},
    host: bg.host,
    cloud: () => bg.cloudInfo(0),
  });
  await gpu?.close();

  if (target.tracked) {
    const cloud = await summaryCloud(bg);
    const report = out.summary.build({
      command: target.wrap ? s.job.command : null,
      trackedPid: tracker?.pid ?? null,
      exitCode: ownExitCode,
      end: childStatus ? "exited" : stop.attachedEnded() ? "ended" : "stopped",
      durationSecs: (Date.now() - startedMs) / 1000,
      cloud,
      metadata: s.job.metadata,
      tags: s.job.tags,
      ...limitsOf(limits),
    });
    report.cgroup = out.forensics.build(seenCgroups, {
      job: spawned?.job !== undefined,
      ...(spawned?.job && tracker
        ? { treeCpuSecs: (tracker.reported.u + tracker.reported.s) / TICKS_PER_SEC }
        : {}),
    });
    await writeSummary(report, s.summary, exitCode, deps.warn);
  }
  guard.release(); // main exits right after
  return exitCode;
}

async function summaryCloud(bg: Background): Promise<Record<string, unknown> | null> {
  const discovery = await bg.cloud(0);
  return discovery?.info ? { ...discovery.info } : null;
}

function limitsOf(l: Limits) {
  return { memoryLimitMib: l.memoryMib, cpuLimitCores: l.cpuCores };
}

/** The tracked process tree: the spawned command's (with what it orphans), or the attached one. */
function treeTracker(
  s: TrackSettings,
  target: Target,
  spawned: Watched | undefined,
): ProcessTracker | undefined {
  if (spawned) {
    const { adopter, reapedBefore: before } = spawned;
    // The child's PID is in our PID namespace: its tree is read from our own /proc. We reap the
    // command and its orphans: what we reaped is the part of the tree that left it (tree_delta).
    const outside = before
      ? () => {
        const now = childrenUsage();
        return now && {
          u: Math.floor((now.uUs - before.uUs) * TICKS_PER_SEC / 1e6),
          s: Math.floor((now.sUs - before.sUs) * TICKS_PER_SEC / 1e6),
          read: now.read - before.read,
          write: now.write - before.write,
        };
      }
      : undefined;
    return new ProcessTracker("/proc", spawned.child.pid, {
      extraRoots: () => adopter.adopted(),
      ...(outside ? { outside } : {}),
    });
  }
  if (target.attach) {
    const { pid, start } = target.attach;
    return new ProcessTracker(s.sampling.roots.proc, pid, {
      ...(start !== undefined ? { rootStart: start } : {}),
    });
  }
  return undefined;
}

/** The sampler with everything it reads: GPUs, energy counters, the tree, the job's cgroup. */
function startSampler(
  s: TrackSettings,
  deps: EndDeps,
  o: {
    gpu: GpuCollector | undefined;
    tracker: ProcessTracker | undefined;
    spawned: Watched | undefined;
  },
): { sampler: Sampler; energy: EnergyMeter | null } {
  const { roots, intervalSecs } = s.sampling;
  const { warn } = deps;
  const energy = detectEnergyMeter(
    { sys: roots.sys, warn, maxGapSecs: 3 * intervalSecs },
    o.gpu !== undefined,
  );
  const job = o.spawned?.job;
  const sampler = new Sampler({
    ...(energy ? { energy } : {}),
    roots,
    jobName: s.job.metadata.job_name ?? null,
    version: deps.version,
    warn,
    ...(o.gpu ? { gpu: o.gpu } : {}),
    ...(o.tracker ? { process: o.tracker } : {}),
    ...(job
      ? {
        cgroups: new CgroupMonitor({
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
): StopConditions {
  const stop = new AbortController();
  let finalMinMs = 100;
  const finish = () => {
    finalMinMs = 0; // the job ended: its last partial interval always counts
    stop.abort();
  };
  const pollMs = Math.min(250, s.sampling.intervalSecs * 1000);
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
      if (s.job.waitDescendants) await descendantsGone(spawned, pollMs, stop.signal);
      finish();
    });
  } else {
    const onSignal = () => stop.abort();
    for (const sig of STOP_SIGNALS) Deno.addSignalListener(sig, onSignal);
    cleanups.push(() => STOP_SIGNALS.forEach((sig) => Deno.removeSignalListener(sig, onSignal)));
    if (early.some((sig) => STOP_SIGNALS.includes(sig))) stop.abort();
  }
  if (target.attach) {
    const { pid, start } = target.attach;
    const proc = s.sampling.roots.proc;
    // Notice the end of an attached process within 250 ms, not one interval.
    const t = setInterval(() => {
      if (!isRunning(proc, pid, start)) {
        attachedEnded = true;
        finish();
      }
    }, pollMs);
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
  pollMs: number,
  stop: AbortSignal,
): Promise<void> {
  while (!stop.aborted) {
    adopter.reap();
    const live = adopter.adopted().filter((pid) => isRunning("/proc", pid));
    if (live.length === 0 && (job === undefined || job.pids().length === 0)) return;
    await sleep(pollMs, stop);
  }
}

/** The sample stream's consumers: the summary, the cgroup forensics, the sinks, one warning. */
function emitter(
  s: TrackSettings,
  sinks: SinkSet,
  stop: StopConditions,
  warn: (line: string) => void,
) {
  const summary = new SummaryBuilder(s.sampling.intervalSecs);
  const forensics = new CgroupForensics();
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
      warming ??= warmUp(s.sampling.roots, stop.signal).catch(() => {});
    },
  };
}

/**
 * The sampling loop until a stop condition; then the exit-flush guard is up and the warm-up is
 * over. The command's last interval counts what we reaped (tree_delta).
 */
async function sampleUntilStopped(
  s: TrackSettings,
  o: {
    sampler: Sampler;
    out: ReturnType<typeof emitter>;
    stop: StopConditions;
    spawned: Watched | undefined;
    wrap: boolean;
  },
): Promise<FlushGuard> {
  const { stop, spawned } = o;
  let guard: FlushGuard;
  try {
    await runLoop({
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
    guard = guardFlush();
    stop.dispose();
  }
  stop.abort(); // ends a warm-up still running (e.g. after --samples)
  await o.out.warming();
  return guard;
}
