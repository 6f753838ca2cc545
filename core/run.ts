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
import { openPrivateFile } from "../sinks/safe_open.ts";
import type { Config } from "./config.ts";
import { releaseEarlySignals } from "./early_signals.ts";
import { childrenBlockIo } from "./libc.ts";
import { oneLine, UsageError } from "./errors.ts";
import { writeAllSync } from "./log.ts";
import { runLoop } from "./loop.ts";
import type { ProcessTracker } from "./process_tracker.ts";
import { Adopter, exitCodeOf, forwardSignals, spawnCommand } from "./supervisor.ts";

export interface RunDeps {
  version: string;
  env: (name: string) => string | undefined;
  warn: (line: string) => void;
}

/** Without a command these end the run gracefully (flush, exit 0); SIGHUP too (hang-up). */
const STOP_SIGNALS: readonly Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

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
    import("./summary.ts"),
    import("./warmup.ts"),
    import("../collectors/energy/mod.ts"),
  ]).then(([sampler, tracker, summary, warmup, energy]) => ({
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

/** CPU ticks and block I/O bytes of every child this process has reaped. */
function reaped(): { u: number; s: number; read: number; write: number } {
  const self = readPidStat("/proc", Deno.pid);
  const io = childrenBlockIo();
  return { u: self?.cutime ?? 0, s: self?.cstime ?? 0, read: io?.read ?? 0, write: io?.write ?? 0 };
}

function pidExists(proc: string, pid: number): boolean {
  const st = readPidStat(proc, pid);
  return st !== undefined && st.state !== "Z" && st.state !== "X";
}

export async function track(config: Config, deps: RunDeps): Promise<number> {
  const { warn } = deps;
  const wrap = config.command.length > 0;
  const attachPid = wrap ? null : config.pid;
  if (attachPid !== null && !pidExists(config.roots.proc, attachPid)) {
    throw new UsageError(`--pid ${attachPid}: no such process`);
  }
  const tracked = wrap || attachPid !== null;
  const wantsCloud = tracked || !!(deps.env("SENTINEL_API_TOKEN") || deps.env("SENTINEL_API_KEY"));
  // What is not needed to start the command waits until it runs.
  let started!: () => void;
  const afterSpawn = new Promise<void>((r) => (started = r));
  const cloud = startCloud(config, deps.env, wantsCloud, afterSpawn);
  const gpuReady = afterSpawn.then(() => gpuFor(config, warn));
  let host: Promise<HostInfo> | undefined;
  const sinks: SinkSet = await createSinks({
    config,
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
  let reapedBefore = { u: 0, s: 0, read: 0, write: 0 };
  let tracker: ProcessTracker | undefined;
  if (wrap) {
    const subreaper = Adopter.enable();
    reapedBefore = reaped();
    try {
      child = spawnCommand(config.command);
    } catch (err) {
      started(); // let registration finish with host facts before the run is closed
      await sinks.close({ exitCode: exitOf(err) });
      await (await gpuReady)?.close();
      throw err;
    }
    adopter = new Adopter("/proc", child.pid, subreaper);
  }
  const { Sampler, ProcessTracker, SummaryBuilder, formatSummary, warmUp, detectEnergyMeter } =
    await loadSampling();
  if (child && adopter) {
    const a = adopter;
    // The child's PID is in our PID namespace: its tree is read from our own /proc.
    tracker = new ProcessTracker("/proc", child.pid, () => a.adopted());
  } else if (attachPid !== null) {
    tracker = new ProcessTracker(config.roots.proc, attachPid);
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
    cleanups.push(forwardSignals(child.pid));
    for (const sig of early) {
      try {
        Deno.kill(child.pid, sig);
      } catch { /* already gone */ }
    }
    child.status.then((st) => {
      childStatus = st;
      finish();
    });
  } else {
    const onSignal = () => stop.abort();
    for (const sig of STOP_SIGNALS) Deno.addSignalListener(sig, onSignal);
    cleanups.push(() => STOP_SIGNALS.forEach((sig) => Deno.removeSignalListener(sig, onSignal)));
    if (early.some((sig) => STOP_SIGNALS.includes(sig))) stop.abort();
  }
  if (attachPid !== null) {
    // Notice the end of an attached process within 250 ms, not one interval.
    const t = setInterval(() => {
      if (!pidExists(config.roots.proc, attachPid)) finish();
    }, Math.min(250, config.interval * 1000));
    cleanups.push(() => clearInterval(t));
  }

  const summary = new SummaryBuilder();
  let warming: Promise<void> | undefined;
  const startedMs = Date.now();
  try {
    await runLoop({
      intervalMs: config.interval * 1000,
      collect: (wallMs, actual) => {
        if (childStatus && tracker && adopter) {
          // Close the run with kernel accounting: everything we reaped (the child and the
          // orphans we adopted) is in our cutime/cstime and children's block I/O, plus what
          // still runs.
          adopter.reap();
          const now = reaped(), live = tracker.liveTotals();
          tracker.closeWith({
            u: now.u - reapedBefore.u + live.u,
            s: now.s - reapedBefore.s + live.s,
            read: now.read - reapedBefore.read + live.read,
            write: now.write - reapedBefore.write + live.write,
          });
        }
        return sampler.collect(wallMs, actual);
      },
      emit: (sample) => {
        summary.add(sample);
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
    cleanups.forEach((c) => c());
  }
  stop.abort(); // ends a warm-up still running (e.g. after --samples)
  await warming;
  const exitCode = childStatus ? exitCodeOf(childStatus) : 0;
  await sinks.close({ exitCode });
  adopter?.reap();
  await writeRunRecord(config, deps, {
    command: wrap ? config.command : null,
    trackedPid: tracker?.pid ?? null,
    exitCode,
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
      exitCode,
      durationSecs: (Date.now() - startedMs) / 1000,
      cloud: discovery?.info ? { ...discovery.info } : null,
      memoryLimitMib: (await import("../report/sidecar.ts")).memoryLimitMib(
        config.roots.sys,
        config.roots.proc,
      ),
      cpuLimitCores: (await import("../collectors/cgroup.ts")).readQuotaCores(config.roots.sys) ??
        null,
    });
    if (config.values.get("no-summary") !== true) writeAllSync(Deno.stderr, formatSummary(report));
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
  return exitCode;
}

/** `FILE.run.json` beside each sample file, for `report` and `replay` (report/sidecar.ts). */
async function writeRunRecord(
  config: Config,
  deps: RunDeps,
  o: {
    command: readonly string[] | null;
    trackedPid: number | null;
    exitCode: number;
    startedMs: number;
    /** Energy counters found (collectors/energy); GPUs are counted from their samples. */
    energyDomains: string[];
    /** Joules per device measured in this run. */
    energyTotals: Readonly<Record<string, number>>;
    host: () => Promise<HostInfo>;
    cloud: () => Promise<Record<string, unknown>>;
  },
): Promise<void> {
  const { sampleFiles, memoryLimitMib, writeRunRecords } = await import("../report/sidecar.ts");
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
    memory_limit_mib: memoryLimitMib(config.roots.sys, config.roots.proc),
    cpu_quota_cores: (await import("../collectors/cgroup.ts")).readQuotaCores(config.roots.sys) ??
      null,
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
