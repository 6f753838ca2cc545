/**
 * The end-of-run summary: totals and peaks over the emitted samples. CPU totals are exact in
 * wrapper mode because the last sample closes the run with kernel accounting.
 */
import { formatRecommendation, recommend, type Recommendation } from "../report/recommend.ts";
import { UsageBuilder } from "../report/usage.ts";
import type { Sample } from "./sample.ts";

export interface RunSummary {
  command: readonly string[] | null;
  tracked_pid: number | null;
  exit_code: number;
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
  disk: { read_bytes: number; write_bytes: number };
  /** Whole host: interfaces are not attributed to processes. */
  network: { recv_bytes: number; sent_bytes: number };
  gpu:
    | { avg_usage: number; peak_usage: number; peak_vram_mib: number; peak_utilized: number }
    | null;
  cloud: Record<string, unknown> | null;
  /** Right-sizing from this run (report/recommend.ts), with its evidence lines. */
  recommendation: Recommendation;
}

export class SummaryBuilder {
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
    this.#peakCores = Math.max(this.#peakCores, c.process_cores_used ?? 0);
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
      this.#gpuMemMib = s.gpu.reduce((a, g) => a + Math.floor(g.vram_total_bytes / 1048576), 0);
    }
    if (c.process_gpu_usage !== null) {
      this.#gpuSeen = true;
      this.#gpuUsageSum += c.process_gpu_usage;
      this.#gpuPeak = Math.max(this.#gpuPeak, c.process_gpu_usage);
      this.#vramPeak = Math.max(this.#vramPeak, c.process_gpu_vram_mib ?? 0);
      this.#utilizedPeak = Math.max(this.#utilizedPeak, c.process_gpu_utilized ?? 0);
    }
  }

  build(o: {
    command: readonly string[] | null;
    trackedPid: number | null;
    exitCode: number;
    durationSecs: number;
    cloud: Record<string, unknown> | null;
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
      duration_secs: o.durationSecs,
      samples: this.#n,
      cpu: {
        user_secs: this.#u,
        system_secs: this.#s,
        total_secs: total,
        avg_cores: o.durationSecs > 0 ? total / o.durationSecs : 0,
        peak_cores: this.#peakCores,
      },
      memory: { peak_pss_mib: this.#pss, peak_rss_mib: this.#rss },
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

const mib = (n: number) => formatBytes(n * 1048576);

/** The human-readable summary printed to stderr. */
export function formatSummary(r: RunSummary): string {
  const what = r.command ? `"${r.command.join(" ")}"` : `PID ${r.tracked_pid}`;
  const lines = [
    `resource-tracker: ${what} exited with ${r.exit_code} after ${
      r.duration_secs.toFixed(1)
    } s (${r.samples} samples)`,
    `  CPU      ${r.cpu.user_secs.toFixed(2)} s user + ${r.cpu.system_secs.toFixed(2)} s system = ${
      r.cpu.total_secs.toFixed(2)
    } s; average ${r.cpu.avg_cores.toFixed(2)} cores, peak ${r.cpu.peak_cores.toFixed(2)}`,
    `  Memory   peak PSS ${mib(r.memory.peak_pss_mib)}, peak RSS ${mib(r.memory.peak_rss_mib)}`,
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
