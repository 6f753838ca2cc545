/**
 * One tracking run: system-only, wrapper (`-- COMMAND`) or attach (`--pid`); owns the exit code.
 * `track` reads as its phases: check the target, start the background discoveries, open the
 * sinks, spawn; the rest (sampling until a stop condition, the close with the kernel's
 * accounting, the summary) is core/tracking.ts, which loads while the command starts.
 */
import type { CloudDiscovery } from "../clouds/mod.ts";
import type { GpuCollector } from "../collectors/gpu/mod.ts";
import type { HostInfo } from "../collectors/host.ts";
import type { Roots } from "../base/sample.ts";
import { createSinks, type SinkSet } from "../sinks/mod.ts";
import { sentinelToken } from "../sinks/sink.ts";
import { childrenUsage } from "../base/libc.ts";
import type { JobCgroup } from "./cgroup_job.ts";
import { oneLine, UsageError } from "../base/errors.ts";
import type { CloudSettings, GpuSettings, TrackSettings } from "./settings.ts";
import { enableSubreaper, spawnCommand } from "./supervisor.ts";
import type { Background, Spawned, Target } from "./tracking.ts";
import type { EndDeps } from "./run_end.ts";
import { settlesWithin } from "../base/time.ts";

/** The version, the environment and the warning line of a run. */
export type RunDeps = EndDeps;

export async function track(s: TrackSettings, deps: RunDeps): Promise<number> {
  const target = await checkTarget(s);
  const bg = startBackground(s, deps, target);
  const sinks = await createSinks({
    settings: s.sinks,
    views: async (ctx, destinations) => (await import("./views.ts")).viewSinks(ctx, destinations),
    env: deps.env,
    warn: deps.warn,
    run: {
      metadata: { ...s.job.metadata },
      tags: { ...s.job.tags },
      command: target.wrap ? s.job.command : null,
      host: async () => ({ ...await bg.host() }),
      cloud: bg.cloudInfo,
    },
  });
  // Wrapper mode: the child starts at once; the baseline follows right after the spawn.
  const spawned = target.wrap ? await spawnWrapped(s, deps, sinks, bg) : undefined;
  const { trackUntilEnd } = await import("./tracking.ts");
  return await trackUntilEnd(s, deps, { target, bg, sinks, spawned });
}

/** The GPU collector unless disabled (its modules load on first use, off the start-up path). */
export async function gpuFor(
  gpu: GpuSettings,
  roots: Roots,
  warn: (l: string) => void,
): Promise<GpuCollector | undefined> {
  if (gpu.disabled) return undefined;
  const { createGpuCollector } = await import("../collectors/gpu/mod.ts");
  return createGpuCollector({ roots, nvidiaSmi: gpu.nvidiaSmi, warn });
}

/** Host facts once: the GPU part waits for the first GPU reading (bounded). */
export async function hostFacts(roots: Roots, gpu: GpuCollector | undefined): Promise<HostInfo> {
  const { firstReading, gpuHostFacts } = await import("../collectors/gpu/mod.ts");
  const { deriveHost, readHostInputs } = await import("../collectors/host.ts");
  const facts = gpu ? gpuHostFacts((await firstReading(gpu, 5000)).devices) : gpuHostFacts([]);
  return deriveHost(readHostInputs(roots, facts));
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

/** What the run tracks, and the settings that do not fit it, as usage errors. */
async function checkTarget(s: TrackSettings): Promise<Target> {
  const { proc } = s.sampling.roots;
  checkProcRoot(proc);
  const wrap = s.job.command.length > 0;
  const pid = wrap ? null : s.sampling.pid;
  let attach: Target["attach"] = null;
  if (pid !== null) {
    // The process reader loads only here: wrapper mode reads no process before the spawn.
    const { isLive, readPidStat } = await import("../collectors/process.ts");
    const st = readPidStat(proc, pid);
    if (st === undefined || !isLive(st)) throw new UsageError(`--pid ${pid}: no such process`);
    attach = { pid, start: st.starttime };
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

/** Cloud discovery, the GPU collector and host facts, held until the command runs. */
function startBackground(s: TrackSettings, deps: RunDeps, target: Target): Background {
  const wantsCloud = target.tracked || sentinelToken(deps.env) !== null;
  // What is not needed to start the command waits until it runs.
  let started!: () => void;
  const afterSpawn = new Promise<void>((r) => (started = r));
  const { roots } = s.sampling;
  const gpu = afterSpawn.then(() => gpuFor(s.gpu, roots, deps.warn));
  const cloud = startCloud(s.cloud, roots.sys, deps.env, wantsCloud, afterSpawn);
  let host: Promise<HostInfo> | undefined;
  return {
    started,
    cloud,
    gpu,
    host: () => (host ??= gpu.then((g) => hostFacts(roots, g))),
    cloudInfo: async (maxWaitMs) => {
      const info = (await cloud(maxWaitMs))?.info;
      return { ...(info ?? (await import("../clouds/types.ts")).EMPTY_CLOUD) };
    },
  };
}

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
  return async (maxWaitMs: number) => (await settlesWithin(running, maxWaitMs)) ? running : null;
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

function exitOf(err: unknown): number {
  return typeof (err as { exitCode?: unknown })?.exitCode === "number"
    ? (err as { exitCode: number }).exitCode
    : 1;
}
