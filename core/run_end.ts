/**
 * The end of a tracking run (core/tracking.ts): closing with the kernel's accounting (the job
 * cgroup emptied, the sinks flushed, the last orphans reaped, the limits read), the run record
 * beside each sample file, and the summary.
 */
import { memoryLimitMib, sampleFiles, writeRunRecords } from "../report/sidecar.ts";
import { readQuotaCores } from "../collectors/cgroup.ts";
import type { HostInfo } from "../collectors/host.ts";
import { formatSummary, type RunSummary } from "../report/summary.ts";
import { oneLine } from "../base/errors.ts";
import { writeAllSync, writeWithin } from "../base/log.ts";
import { openPrivateFile } from "../base/safe_open.ts";
import type { SinkSet } from "../sinks/mod.ts";
import type { JobCgroup } from "./cgroup_job.ts";
import { formatCgroupLines } from "./cgroup_summary.ts";
import type { FlushGuard } from "./flush_guard.ts";
import type { SummarySettings, TrackSettings } from "./settings.ts";
import type { Adopter } from "./adopter.ts";

/** What a run needs from its caller (core/run.ts `RunDeps`). */
export interface EndDeps {
  version: string;
  env: (name: string) => string | undefined;
  warn: (line: string) => void;
}

export interface Limits {
  /** The cgroup's memory limit, MiB, or null. */
  memoryMib: number | null;
  /** The CFS quota in cores, or null. */
  cpuCores: number | null;
}

/**
 * Empties the job's cgroup, flushes the sinks (a signal only shortens the wait), reaps what the
 * command left, and reads the job's limits once, for the run record and the summary.
 */
export async function closeWithKernelAccounting(o: {
  settings: TrackSettings;
  deps: EndDeps;
  sinks: SinkSet;
  guard: FlushGuard;
  exitCode: number;
  adopter?: Adopter;
  job?: JobCgroup;
}): Promise<Limits> {
  if (o.job) {
    const left = await o.job.remove();
    if (left > 0) {
      o.deps.warn(
        `--cgroup: ${left} process(es) still running after the command exited were moved out of the job's cgroup (--wait-descendants waits for them)`,
      );
    }
  }
  await o.sinks.close({ exitCode: o.exitCode, signal: o.guard.signal });
  o.adopter?.reap();
  const { sys, proc } = o.settings.sampling.roots;
  return { memoryMib: memoryLimitMib(sys, proc), cpuCores: readQuotaCores(sys) ?? null };
}

/** `FILE.run.json` beside each sample file, for `report` and `replay` (report/sidecar.ts). */
export async function writeRunRecord(
  s: TrackSettings,
  deps: EndDeps,
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
  const files = sampleFiles(s.sinks);
  if (files.length === 0) return;
  writeRunRecords(files, {
    resource_tracker_run: 1,
    version: deps.version,
    command: o.command,
    tracked_pid: o.trackedPid,
    exit_code: o.exitCode,
    started_at: new Date(o.startedMs).toISOString(),
    finished_at: new Date().toISOString(),
    interval_secs: s.sampling.intervalSecs,
    metadata: { ...s.job.metadata },
    tags: { ...s.job.tags },
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

/** The summary on stderr (unless `--no-summary`) and in `--summary-json FILE`. */
export async function writeSummary(
  report: RunSummary,
  s: SummarySettings,
  exitCode: number,
  warn: (line: string) => void,
): Promise<void> {
  const x = report.cgroup?.cross_check;
  // The summary states it too; without one it is a warning line of its own.
  if (x?.warning && s.quiet) {
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
  if (!s.quiet) {
    await writeWithin(formatSummary(report) + cgroupLines.map((l) => l + "\n").join(""), 2_000);
  }
  if (s.jsonPath) {
    // The command's exit code stays what it was even if the summary cannot be written.
    try {
      const f = openPrivateFile(s.jsonPath);
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
