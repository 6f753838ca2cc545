/**
 * The end-of-run summary: totals and peaks over the emitted samples. CPU totals are exact in
 * wrapper mode because the accounting conserves what the kernel charged to the tree
 * (core/tree_delta.ts).
 *
 * Peaks (`cpu.peak_cores`) are taken over windows of at least half the nominal interval:
 * consecutive samples are joined until they span that long, and a short window left at the end
 * (the partial last interval) is joined to the window before it. Tick granularity over a few
 * tens of milliseconds is not a peak.
 */
import { formatRecommendation, recommend, type Recommendation } from "./recommend.ts";
import { UsageBuilder } from "./usage.ts";
import { escapeControls } from "../base/errors.ts";
import type { PressureStalls, Sample } from "../base/sample.ts";
import { MIB } from "../base/units.ts";

/** Totals of the job's own cgroup (`--cgroup`): exact, whatever the processes did. */
export interface JobCgroupTotals {
  cpu_user_secs: number | null;
  cpu_system_secs: number | null;
  cpu_total_secs: number | null;
  memory_peak_bytes: number | null;
  read_bytes: number | null;
  write_bytes: number | null;
  pids_peak: number | null;
  oom_kills: number | null;
}

export interface CgroupRunSummary extends PressureStalls {
  version: 1 | 2;
  path: string;
  /** Every cgroup the job was seen in (paths), the followed one first. */
  cgroups_seen: string[];
  oom_kills: number | null;
  oom_events: number | null;
  memory_limit_hits: number | null;
  memory_high_events: number | null;
  memory_limit_bytes: number | null;
  memory_high_bytes: number | null;
  memory_peak_bytes: number | null;
  memory_peak_pct_of_limit: number | null;
  cpu_quota_cores: number | null;
  cpu_periods: number | null;
  cpu_throttled_periods: number | null;
  cpu_throttled_pct_of_periods: number | null;
  throttled_secs: number | null;
  pids_peak: number | null;
  pids_limit: number | null;
  pids_limit_hits: number | null;
  /** `--cgroup` only: the job cgroup's totals. */
  job: JobCgroupTotals | null;
  /** `--cgroup` only: tree CPU total against the cgroup's (a gap > 2 % is a warning). */
  cross_check: {
    tree_cpu_secs: number;
    cgroup_cpu_secs: number;
    difference_pct: number;
    warning: boolean;
  } | null;
}

export interface RunSummary {
  command: readonly string[] | null;
  tracked_pid: number | null;
  /** The command's exit code; null when attached (a non-child's status is not visible). */
  exit_code: number | null;
  /**
   * `exited`: the wrapped command exited (exit_code says how); `ended`: the attached process
   * ended; `stopped`: tracking stopped first (--samples, a signal).
   */
  end: "exited" | "ended" | "stopped";
  duration_secs: number;
  samples: number;
  cpu: {
    user_secs: number;
    system_secs: number;
    total_secs: number;
    avg_cores: number;
    peak_cores: number;
  };
  memory: { peak_pss_mib: number; peak_rss_mib: number };
  /**
   * Most members in one sample whose memory or I/O could not be read (counted as 0 there):
   * 0 means every figure covers the whole tree.
   */
  unreadable_processes: number;
  disk: { read_bytes: number; write_bytes: number };
  /** Whole host: interfaces are not attributed to processes. */
  network: { recv_bytes: number; sent_bytes: number };
  gpu:
    | { avg_usage: number; peak_usage: number; peak_vram_mib: number; peak_utilized: number }
    | null;
  cloud: Record<string, unknown> | null;
  /** Run metadata (`project_name`, `job_name`, `stage_name`, `task_name`, `team`, `env`, …). */
  metadata: Record<string, string | null>;
  tags: Record<string, string>;
  /** Limits, OOM kills, throttling and pressure of the job's cgroup(s); see cgroup_summary.ts. */
  cgroup?: CgroupRunSummary | null;
  /** Right-sizing from this run (report/recommend.ts), with its evidence lines. */
  recommendation: Recommendation;
}

/** CPU-seconds and milliseconds of a run of consecutive samples. */
interface Window {
  cpu: number;
  ms: number;
}

export class SummaryBuilder {
  readonly #minWindowMs: number;
  #window: Window = { cpu: 0, ms: 0 };
  #lastWindow: Window | undefined;
  #unreadable = 0;
  #n = 0;
  #u = 0;
  #s = 0;
  #peakCores = 0;
  #pss = 0;
  #rss = 0;
  #read = 0;
  #write = 0;
  #recv = 0;
  #sent = 0;
  #gpuSeen = false;
  #gpuUsageSum = 0;
  #gpuPeak = 0;
  #vramPeak = 0;
  #utilizedPeak = 0;
  #gpuCount = 0;
  #gpuMemMib = 0;
  readonly #usage = new UsageBuilder("process tree");

  /** @param intervalSecs the nominal sampling interval */
  constructor(intervalSecs: number) {
    this.#minWindowMs = intervalSecs * 1000 / 2;
  }

  add(s: Sample): void {
    this.#n++;
    const c = s.cpu;
    const dt = (s.actual_interval_ms ?? 0) / 1000;
    const num = (v: number | null) => (v === null ? NaN : v);
    this.#usage.add({
      dt,
      cores: num(c.process_cores_used),
      hostCores: c.utilization_pct,
      memMib: num(c.process_pss_mib),
      swapMib: s.memory.swap_used_mib,
      diskBps: dt > 0
        ? ((c.process_disk_read_bytes ?? 0) + (c.process_disk_write_bytes ?? 0)) / dt
        : NaN,
      netBps: s.network.reduce((a, n) => a + n.rx_bytes_per_sec + n.tx_bytes_per_sec, 0),
      gpuUsage: num(c.process_gpu_usage),
      gpuVramMib: num(c.process_gpu_vram_mib),
      gpuUtilized: num(c.process_gpu_utilized),
      vcpus: c.per_core_pct.length,
      hostMemMib: s.memory.total_mib,
    });
    this.#u += c.process_utime_secs ?? 0;
    this.#s += c.process_stime_secs ?? 0;
    const ms = s.actual_interval_ms ?? 0;
    this.#window.cpu += (c.process_cores_used ?? 0) * ms / 1000;
    this.#window.ms += ms;
    if (this.#window.ms >= this.#minWindowMs && this.#window.ms > 0) {
      this.#peakCores = Math.max(this.#peakCores, this.#window.cpu * 1000 / this.#window.ms);
      this.#lastWindow = this.#window;
      this.#window = { cpu: 0, ms: 0 };
    }
    this.#unreadable = Math.max(this.#unreadable, c.process_unreadable_count ?? 0);
    this.#pss = Math.max(this.#pss, c.process_pss_mib ?? 0);
    this.#rss = Math.max(this.#rss, c.process_rss_mib ?? 0);
    this.#read += c.process_disk_read_bytes ?? 0;
    this.#write += c.process_disk_write_bytes ?? 0;
    const secs = (s.actual_interval_ms ?? 0) / 1000;
    for (const n of s.network) {
      this.#recv += Math.trunc(n.rx_bytes_per_sec * secs);
      this.#sent += Math.trunc(n.tx_bytes_per_sec * secs);
    }
    if (s.gpu.length > 0) {
      this.#gpuCount = s.gpu.length;
      this.#gpuMemMib = s.gpu.reduce((a, g) => a + Math.floor(g.vram_total_bytes / MIB), 0);
    }
    if (c.process_gpu_usage !== null) {
      this.#gpuSeen = true;
      this.#gpuUsageSum += c.process_gpu_usage;
      this.#gpuPeak = Math.max(this.#gpuPeak, c.process_gpu_usage);
      this.#vramPeak = Math.max(this.#vramPeak, c.process_gpu_vram_mib ?? 0);
      this.#utilizedPeak = Math.max(this.#utilizedPeak, c.process_gpu_utilized ?? 0);
    }
  }

  /** Peak cores, with a short window left at the end joined to the one before it. */
  #peak(): number {
    const w = this.#window, last = this.#lastWindow ?? { cpu: 0, ms: 0 };
    const ms = w.ms + last.ms;
    return ms > 0 ? Math.max(this.#peakCores, (w.cpu + last.cpu) * 1000 / ms) : this.#peakCores;
  }

  build(o: {
    command: readonly string[] | null;
    trackedPid: number | null;
    exitCode: number | null;
    end: RunSummary["end"];
    durationSecs: number;
    cloud: Record<string, unknown> | null;
    metadata?: Readonly<Record<string, string | null>>;
    tags?: Readonly<Record<string, string>>;
    /** The cgroup's memory limit, MiB, when there is one. */
    memoryLimitMib?: number | null;
    /** The cgroup's CFS quota in cores, when there is one. */
    cpuLimitCores?: number | null;
  }): RunSummary {
    const total = this.#u + this.#s;
    return {
      command: o.command,
      tracked_pid: o.trackedPid,
      exit_code: o.exitCode,
      end: o.end,
      duration_secs: o.durationSecs,
      samples: this.#n,
      cpu: {
        user_secs: this.#u,
        system_secs: this.#s,
        total_secs: total,
        avg_cores: o.durationSecs > 0 ? total / o.durationSecs : 0,
        peak_cores: this.#peak(),
      },
      memory: { peak_pss_mib: this.#pss, peak_rss_mib: this.#rss },
      unreadable_processes: this.#unreadable,
      disk: { read_bytes: this.#read, write_bytes: this.#write },
      network: { recv_bytes: this.#recv, sent_bytes: this.#sent },
      gpu: this.#gpuSeen
        ? {
          avg_usage: this.#n ? this.#gpuUsageSum / this.#n : 0,
          peak_usage: this.#gpuPeak,
          peak_vram_mib: this.#vramPeak,
          peak_utilized: this.#utilizedPeak,
        }
        : null,
      cloud: o.cloud,
      metadata: { ...o.metadata },
      tags: { ...o.tags },
      recommendation: recommend(this.#usage.build({
        gpuCount: this.#gpuCount || null,
        gpuMemoryMib: this.#gpuMemMib || null,
        memoryLimitMib: o.memoryLimitMib ?? null,
        cpuLimitCores: o.cpuLimitCores ?? null,
      })),
    };
  }
}

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n, i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

const mib = (n: number) => formatBytes(n * MIB);

/** The human-readable summary printed to stderr. */
export function formatSummary(r: RunSummary): string {
  // The command's control characters (newlines, screen escapes) are shown escaped, not raw.
  const what = r.command ? `"${escapeControls(r.command.join(" "))}"` : `PID ${r.tracked_pid}`;
  const secs = `${r.duration_secs.toFixed(1)} s`;
  const head = r.end === "exited"
    ? `${what} exited with ${r.exit_code} after ${secs} (${r.samples} samples)`
    : r.end === "ended"
    ? `${what} ended after ${secs} (${r.samples} samples); exit status not visible to an attached tracker`
    : `${what}: stopped after ${r.samples} samples (${secs})`;
  const lines = [
    `resource-tracker: ${head}`,
    `  CPU      ${r.cpu.user_secs.toFixed(2)} s user + ${r.cpu.system_secs.toFixed(2)} s system = ${
      r.cpu.total_secs.toFixed(2)
    } s; average ${r.cpu.avg_cores.toFixed(2)} cores, peak ${r.cpu.peak_cores.toFixed(2)}`,
    `  Memory   peak PSS ${mib(r.memory.peak_pss_mib)}, peak RSS ${mib(r.memory.peak_rss_mib)}`,
    ...(r.unreadable_processes > 0
      ? [
        `  Unread   up to ${r.unreadable_processes} processes of the tree could not be read ` +
        `(no access): their memory and disk I/O count as 0`,
      ]
      : []),
    `  Disk     read ${formatBytes(r.disk.read_bytes)}, written ${formatBytes(r.disk.write_bytes)}`,
    `  Network  received ${formatBytes(r.network.recv_bytes)}, sent ${
      formatBytes(r.network.sent_bytes)
    } (whole host)`,
  ];
  if (r.gpu) {
    lines.push(
      `  GPU      average ${r.gpu.avg_usage.toFixed(2)} GPUs, peak ${
        r.gpu.peak_usage.toFixed(2)
      }; peak VRAM ${mib(r.gpu.peak_vram_mib)}; up to ${r.gpu.peak_utilized} GPUs used`,
    );
  }
  const c = r.cloud;
  if (c && c.cloud_vendor_id) {
    const parts = [c.cloud_vendor_id, c.cloud_instance_type, c.cloud_region_id, c.cloud_zone_id]
      .filter(Boolean);
    lines.push(`  Cloud    ${parts.join(" ")}`);
  }
  lines.push(...formatRecommendation(r.recommendation).map((l) => `  ${l}`));
  return lines.join("\n") + "\n";
}
