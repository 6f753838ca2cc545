/**
 * One metric model for every engine we export to. Each sample becomes a `Frame`: points named
 * after the OpenTelemetry semantic conventions (`system.cpu.time`, `process.memory.usage`,
 * `hw.gpu.utilization`, …) with OTel attribute names. The Prometheus names and labels are
 * derived from them the way the OpenTelemetry→Prometheus compatibility rules say (dots become
 * underscores, the unit becomes a suffix, counters end in `_total`), prefixed
 * `resource_tracker_`. Counters are cumulative since the tracker started (host CPU time,
 * tree CPU time and I/O) or since boot (host disk and network bytes, as the kernel counts them).
 * A value the tracker does not know (no cgroup counter, no tracked tree, no GPU) has no point.
 */
import type { Sample } from "../base/sample.ts";
import { MIB } from "../base/units.ts";

export type MetricType = "gauge" | "counter" | "updown";

export interface MetricDef {
  /** OpenTelemetry name. */
  readonly otel: string;
  /** UCUM unit as OTLP wants it (`s`, `By`, `1`, `Cel`, `W`, `Hz`, `{process}`). */
  readonly unit: string;
  readonly type: MetricType;
  readonly help: string;
  /** Counted since boot (the kernel's counters), not since the tracker started. */
  readonly sinceBoot?: boolean;
  /** Prometheus name when the derived one breaks its conventions (`_count` is for histograms). */
  readonly prom?: string;
}

export const METRICS = {
  cpuTime: {
    otel: "system.cpu.time",
    unit: "s",
    type: "counter",
    help: "Host CPU time since the tracker started, by mode (user includes nice).",
  },
  cpuUtil: {
    otel: "system.cpu.utilization",
    unit: "1",
    type: "gauge",
    help: "Host CPU busy share of all logical CPUs over the last interval (0-1).",
  },
  cpuCores: {
    otel: "resource_tracker.system.cpu.cores",
    unit: "{cpu}",
    type: "gauge",
    help: "Host busy CPU cores over the last interval (fractional).",
  },
  cpuCount: {
    otel: "system.cpu.logical.count",
    unit: "{cpu}",
    type: "updown",
    help: "Logical CPUs of the host.",
    prom: "resource_tracker_system_cpus",
  },
  procCount: {
    otel: "system.process.count",
    unit: "{process}",
    type: "updown",
    help: "Processes on the host.",
    prom: "resource_tracker_system_processes",
  },
  memUsage: {
    otel: "system.memory.usage",
    unit: "By",
    type: "updown",
    help: "Host memory in bytes by state (used, free, buffers, cached).",
  },
  memLimit: {
    otel: "system.memory.limit",
    unit: "By",
    type: "updown",
    help: "Total host memory in bytes.",
  },
  memAvailable: {
    otel: "system.memory.linux.available",
    unit: "By",
    type: "updown",
    help: "Host memory available for new work (MemAvailable) in bytes.",
  },
  memUtil: {
    otel: "system.memory.utilization",
    unit: "1",
    type: "gauge",
    help: "Host memory share in state used (0-1).",
  },
  swapUsage: {
    otel: "system.paging.usage",
    unit: "By",
    type: "updown",
    help: "Swap space in bytes by state (used, free).",
  },
  diskIo: {
    otel: "system.disk.io",
    unit: "By",
    type: "counter",
    help: "Bytes read from and written to each block device since boot.",
    sinceBoot: true,
  },
  netIo: {
    otel: "system.network.io",
    unit: "By",
    type: "counter",
    help: "Bytes received and transmitted on each network interface since boot.",
    sinceBoot: true,
  },
  fsUsage: {
    otel: "system.filesystem.usage",
    unit: "By",
    type: "updown",
    help: "Filesystem space in bytes by state (used, free).",
  },
  cgroupCpuTime: {
    otel: "resource_tracker.cgroup.cpu.time",
    unit: "s",
    type: "counter",
    help: "CPU time of the tracker's cgroup since the tracker started.",
  },
  cgroupCpuCores: {
    otel: "resource_tracker.cgroup.cpu.cores",
    unit: "{cpu}",
    type: "gauge",
    help: "CPU cores the cgroup used over the last interval (capped at its quota).",
  },
  pCpuTime: {
    otel: "process.cpu.time",
    unit: "s",
    type: "counter",
    help: "CPU time of the tracked process tree since the tracker started, by mode.",
  },
  pCpuCores: {
    otel: "resource_tracker.process.cpu.cores",
    unit: "{cpu}",
    type: "gauge",
    help: "CPU cores the tracked process tree used over the last interval.",
  },
  pCpuUtil: {
    otel: "process.cpu.utilization",
    unit: "1",
    type: "gauge",
    help: "CPU share of all logical CPUs the tracked tree used over the last interval (0-1).",
  },
  pRss: {
    otel: "process.memory.usage",
    unit: "By",
    type: "updown",
    help: "Resident memory (sum of VmRSS) of the tracked process tree in bytes.",
  },
  pPss: {
    otel: "resource_tracker.process.memory.pss",
    unit: "By",
    type: "updown",
    help: "Proportional set size (sum of Pss) of the tracked process tree in bytes.",
  },
  pDiskIo: {
    otel: "process.disk.io",
    unit: "By",
    type: "counter",
    help: "Bytes the tracked process tree read from and wrote to storage since tracking began.",
  },
  pChildren: {
    otel: "resource_tracker.process.children",
    unit: "{process}",
    type: "updown",
    help: "Live descendants of the tracked process.",
  },
  pGpuUsage: {
    otel: "resource_tracker.process.gpu.usage",
    unit: "{gpu}",
    type: "gauge",
    help: "GPUs the tracked tree kept busy (sum of its per-process GPU utilization, fractional).",
  },
  pGpuMemory: {
    otel: "resource_tracker.process.gpu.memory.usage",
    unit: "By",
    type: "updown",
    help: "GPU memory the tracked tree holds in bytes.",
  },
  pGpusUsed: {
    otel: "resource_tracker.process.gpu.count",
    unit: "{gpu}",
    type: "updown",
    help: "GPUs on which the tracked tree has a process.",
    prom: "resource_tracker_process_gpus_used",
  },
  gpuUtil: {
    otel: "hw.gpu.utilization",
    unit: "1",
    type: "gauge",
    help: "GPU utilization (0-1), per device.",
  },
  gpuMemUsage: {
    otel: "hw.gpu.memory.usage",
    unit: "By",
    type: "updown",
    help: "GPU memory used in bytes, per device.",
  },
  gpuMemLimit: {
    otel: "hw.gpu.memory.limit",
    unit: "By",
    type: "updown",
    help: "GPU memory size in bytes, per device.",
  },
  gpuTemp: {
    otel: "hw.temperature",
    unit: "Cel",
    type: "gauge",
    help: "GPU temperature in degrees Celsius, per device.",
  },
  gpuPower: {
    otel: "hw.power",
    unit: "W",
    type: "gauge",
    help: "GPU power draw in watts, per device.",
  },
  gpuFreq: {
    otel: "resource_tracker.gpu.frequency",
    unit: "Hz",
    type: "gauge",
    help: "GPU clock in hertz, per device.",
  },
  samples: {
    otel: "resource_tracker.samples",
    unit: "{sample}",
    type: "counter",
    help: "Samples taken since the tracker started.",
  },
  interval: {
    otel: "resource_tracker.sample.interval",
    unit: "s",
    type: "gauge",
    help: "Measured length of the last sampling interval in seconds.",
  },
} as const satisfies Record<string, MetricDef>;

export type MetricKey = keyof typeof METRICS;

export interface Point {
  readonly k: MetricKey;
  /** OTel attribute names → values (device, direction, mode …); absent when none. */
  readonly a?: Readonly<Record<string, string>>;
  readonly v: number;
}

export interface Frame {
  /** Unix milliseconds of the sample. */
  readonly t: number;
  readonly p: readonly Point[];
}

/** Counters the sample carries as per-interval deltas, summed since the tracker started. */
export class Accumulator {
  hostUser = 0;
  hostSystem = 0;
  treeUser = 0;
  treeSystem = 0;
  treeRead = 0;
  treeWrite = 0;
  cgroup = 0;
  samples = 0;
  add(s: Sample): void {
    const c = s.cpu;
    this.samples++;
    this.hostUser += c.utime_secs;
    this.hostSystem += c.stime_secs;
    this.treeUser += c.process_utime_secs ?? 0;
    this.treeSystem += c.process_stime_secs ?? 0;
    this.treeRead += c.process_disk_read_bytes ?? 0;
    this.treeWrite += c.process_disk_write_bytes ?? 0;
    this.cgroup += c.cgroup_usage_secs ?? 0;
  }
}

/** Adds `s` to `acc` and returns its frame (the counters include `s`). */
export function frameOf(s: Sample, acc: Accumulator): Frame {
  acc.add(s);
  const p: Point[] = [];
  const put = (k: MetricKey, v: number | null | undefined, a?: Record<string, string>) => {
    if (v === null || v === undefined || !Number.isFinite(v)) return;
    p.push(a ? { k, v, a } : { k, v });
  };
  const c = s.cpu, m = s.memory;
  const cpus = c.per_core_pct.length;
  put("cpuTime", acc.hostUser, { "cpu.mode": "user" });
  put("cpuTime", acc.hostSystem, { "cpu.mode": "system" });
  put("cpuCores", c.utilization_pct);
  if (cpus > 0) {
    put("cpuCount", cpus);
    put("cpuUtil", c.utilization_pct / cpus);
  }
  put("procCount", c.process_count);
  put("memLimit", m.total_mib * MIB);
  put("memAvailable", m.available_mib * MIB);
  put("memUsage", m.used_mib * MIB, { "system.memory.state": "used" });
  put("memUsage", m.free_mib * MIB, { "system.memory.state": "free" });
  put("memUsage", m.buffers_mib * MIB, { "system.memory.state": "buffers" });
  put("memUsage", m.cached_mib * MIB, { "system.memory.state": "cached" });
  put("memUtil", m.used_pct / 100, { "system.memory.state": "used" });
  if (m.swap_total_mib > 0) {
    put("swapUsage", m.swap_used_mib * MIB, { "system.paging.state": "used" });
    put("swapUsage", (m.swap_total_mib - m.swap_used_mib) * MIB, {
      "system.paging.state": "free",
    });
  }
  for (const d of s.disk) {
    put("diskIo", d.read_bytes_total, { "system.device": d.device, "disk.io.direction": "read" });
    put("diskIo", d.write_bytes_total, {
      "system.device": d.device,
      "disk.io.direction": "write",
    });
    for (const mt of d.mounts) {
      const a = { "system.device": d.device, "system.filesystem.mountpoint": mt.mount_point };
      put("fsUsage", mt.used_bytes, { ...a, "system.filesystem.state": "used" });
      put("fsUsage", mt.available_bytes, { ...a, "system.filesystem.state": "free" });
    }
  }
  for (const n of s.network) {
    const a = { "network.interface.name": n.interface };
    put("netIo", n.rx_bytes_total, { ...a, "network.io.direction": "receive" });
    put("netIo", n.tx_bytes_total, { ...a, "network.io.direction": "transmit" });
  }
  if (c.cgroup_usage_secs !== null) {
    put("cgroupCpuTime", acc.cgroup);
    put("cgroupCpuCores", c.cgroup_utilization_pct);
  }
  if (c.process_cores_used !== null) {
    put("pCpuTime", acc.treeUser, { "cpu.mode": "user" });
    put("pCpuTime", acc.treeSystem, { "cpu.mode": "system" });
    put("pCpuCores", c.process_cores_used);
    if (cpus > 0) put("pCpuUtil", c.process_cores_used / cpus);
    put("pChildren", c.process_child_count);
  }
  // Process memory is fractional MiB (4 decimals, core/process_tracker.ts): whole bytes here.
  if (c.process_rss_mib !== null) put("pRss", Math.round(c.process_rss_mib * MIB));
  if (c.process_pss_mib !== null) put("pPss", Math.round(c.process_pss_mib * MIB));
  if (c.process_disk_read_bytes !== null) {
    put("pDiskIo", acc.treeRead, { "disk.io.direction": "read" });
    put("pDiskIo", acc.treeWrite, { "disk.io.direction": "write" });
  }
  put("pGpuUsage", c.process_gpu_usage);
  if (c.process_gpu_vram_mib !== null) put("pGpuMemory", c.process_gpu_vram_mib * MIB);
  put("pGpusUsed", c.process_gpu_utilized);
  s.gpu.forEach((g, i) => {
    const a = { "hw.id": g.uuid, "hw.name": g.name, "gpu.index": String(i) };
    put("gpuUtil", g.utilization_pct / 100, a);
    put("gpuMemUsage", g.vram_used_bytes, a);
    put("gpuMemLimit", g.vram_total_bytes, a);
    put("gpuTemp", g.temperature_celsius, { ...a, "hw.type": "gpu" });
    put("gpuPower", g.power_watts, { ...a, "hw.type": "gpu" });
    put("gpuFreq", g.frequency_mhz * 1e6, a);
  });
  put("samples", acc.samples);
  if (s.actual_interval_ms !== undefined) put("interval", s.actual_interval_ms / 1000);
  return { t: s.timestamp_ms, p };
}

const UNIT_SUFFIX: Record<string, string> = {
  s: "seconds",
  By: "bytes",
  Cel: "celsius",
  W: "watts",
  Hz: "hertz",
};

/** Prometheus metric name: `resource_tracker_` + OTel name with unit suffix (and `_total`). */
export function promName(def: MetricDef): string {
  if (def.prom) return def.prom;
  const base = def.otel.replace(/^resource_tracker\./, "").replace(/[^a-zA-Z0-9]/g, "_");
  const parts = ["resource_tracker", base];
  const unit = def.unit === "1" ? (def.type === "gauge" ? "ratio" : "") : UNIT_SUFFIX[def.unit];
  if (unit && !base.endsWith(`_${unit}`)) parts.push(unit);
  if (def.type === "counter") parts.push("total");
  return parts.join("_");
}

/** Prometheus label name of an OTel attribute or identity key. */
export function promLabel(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_]/g, "_");
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

/** What identifies a run: its metadata and tags. Label sets stay bounded by these. */
export interface Identity {
  metadata: Readonly<Record<string, string | null>>;
  tags: Readonly<Record<string, string>>;
}

/** Metadata keys that become labels (the run's identity, never per-sample values). */
export const IDENTITY_KEYS = [
  "job_name",
  "project_name",
  "stage_name",
  "task_name",
  "team",
  "env",
] as const;

/** Identity labels in Prometheus form: metadata as named, tags as `tag_KEY`. */
export function identityLabels(id: Identity): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of IDENTITY_KEYS) {
    const v = id.metadata[k];
    if (v) out[k] = v;
  }
  for (const [k, v] of Object.entries(id.tags)) out[promLabel(`tag_${k}`)] = v;
  return out;
}
