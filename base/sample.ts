/**
 * The sample every sink receives: field names and units follow resource-tracker-rs
 * (docs/COMPATIBILITY.md Part B §1). Units are in the names; MiB = 1 048 576 B.
 */

/** Where collectors read pseudo-files. Defaults are `/proc`, `/sys` and `/`. */
export interface Roots {
  readonly proc: string;
  readonly sys: string;
  readonly root: string;
}

export const DEFAULT_ROOTS: Roots = { proc: "/proc", sys: "/sys", root: "/" };

export interface CpuSample {
  /** Host busy ratio × online cores (fractional cores, not clamped). */
  utilization_pct: number;
  /** Δ cgroup CPU usage this interval in CPU-seconds; null without a cgroup counter. */
  cgroup_usage_secs: number | null;
  /** Δusage / Δwall in fractional cores, capped at the CFS quota; null without a cgroup counter. */
  cgroup_utilization_pct: number | null;
  /** Busy percent per `cpuN` line of /proc/stat, clamped to 0–100. */
  per_core_pct: number[];
  /** Δ(user+nice) / ticks-per-second, host-wide, seconds this interval. */
  utime_secs: number;
  /** Δsystem / ticks-per-second, host-wide, seconds this interval. */
  stime_secs: number;
  /** All-digit entries of /proc. */
  process_count: number;
  /** Tracked tree, fractional cores, capped by host busy time and CFS quota. */
  process_cores_used: number | null;
  /** Live descendants of the tracked PID (root excluded). */
  process_child_count: number | null;
  /** Tree user CPU seconds this interval (reaped children included, exit-corrected). */
  process_utime_secs: number | null;
  /** Tree system CPU seconds this interval. */
  process_stime_secs: number | null;
  /** Σ Pss of the tree from smaps_rollup, MiB with 4 decimals. */
  process_pss_mib: number | null;
  /** Σ Rss of the tree, MiB with 4 decimals. */
  process_rss_mib: number | null;
  /** Σ Δ read_bytes of /proc/<pid>/io, bytes this interval. */
  process_disk_read_bytes: number | null;
  /** Σ Δ write_bytes of /proc/<pid>/io, bytes this interval. */
  process_disk_write_bytes: number | null;
  /** Σ per-process SM/GFX percent ÷ 100 (fractional GPUs); null without a GPU stack. */
  process_gpu_usage: number | null;
  /** Σ per-process VRAM in MiB; null without a GPU stack. */
  process_gpu_vram_mib: number | null;
  /** GPUs on which the tree (or anything, when untracked) has a process. */
  process_gpu_utilized: number | null;
  /**
   * Live members whose memory (smaps_rollup) or I/O could not be read (another user's, without
   * the rights): their PSS and I/O count as 0. null if no PID tracked.
   */
  process_unreadable_count: number | null;
}

/** The `process_*` fields of a CPU sample when no tree is tracked: unknown, so all `null`. */
export const NO_PROCESS_TREE = {
  process_cores_used: null,
  process_child_count: null,
  process_utime_secs: null,
  process_stime_secs: null,
  process_pss_mib: null,
  process_rss_mib: null,
  process_disk_read_bytes: null,
  process_disk_write_bytes: null,
  process_gpu_usage: null,
  process_gpu_vram_mib: null,
  process_gpu_utilized: null,
  process_unreadable_count: null,
} as const satisfies Partial<CpuSample>;

/** All integer MiB except the two `_pct` fields (percent 0–100). */
export interface MemorySample {
  total_mib: number;
  free_mib: number;
  available_mib: number;
  used_mib: number;
  used_pct: number;
  buffers_mib: number;
  cached_mib: number;
  swap_total_mib: number;
  swap_used_mib: number;
  swap_used_pct: number;
  active_mib: number;
  inactive_mib: number;
}

export interface NetworkSample {
  interface: string;
  mac_address: string | null;
  driver: string | null;
  operstate: string | null;
  speed_mbps: number | null;
  mtu: number | null;
  rx_bytes_per_sec: number;
  tx_bytes_per_sec: number;
  rx_bytes_total: number;
  tx_bytes_total: number;
}

export interface MountSample {
  mount_point: string;
  filesystem: string;
  total_bytes: number;
  used_bytes: number;
  available_bytes: number;
  used_pct: number;
}

export type DiskType = "nvme" | "ssd" | "hdd";

export interface DiskSample {
  device: string;
  model: string | null;
  vendor: string | null;
  serial: string | null;
  device_type: DiskType | null;
  capacity_bytes: number | null;
  /** True for devices under /sys/devices/virtual (dm, md, zram …): not summed in CSV I/O totals. */
  virtual: boolean;
  mounts: MountSample[];
  read_bytes_per_sec: number;
  write_bytes_per_sec: number;
  read_bytes_total: number;
  write_bytes_total: number;
}

export interface GpuSample {
  uuid: string;
  name: string;
  device_type: "GPU";
  host_id: string;
  detail: Record<string, string>;
  /** 0–100. */
  utilization_pct: number;
  vram_total_bytes: number;
  vram_used_bytes: number;
  vram_used_pct: number;
  temperature_celsius: number;
  power_watts: number;
  frequency_mhz: number;
  core_count: null;
}

/** Measured energy over the interval (collectors/energy); absent where nothing can be read. */
export interface EnergySample {
  /** Joules over the interval, all measured devices. */
  joules: number;
  /** joules ÷ interval seconds. */
  watts: number;
  method: "measured";
  /** Joules per device (`rapl:package-0@intel-rapl:0`, `gpu:<uuid>` …) over the interval. */
  devices: Record<string, number>;
}

/** Pressure stall time (PSI) over an interval or a run, seconds; `null` where not readable. */
export interface PressureStalls {
  /** "cgroup" (its own *.pressure files) or "host" (/proc/pressure); null without PSI. */
  pressure_source: "cgroup" | "host" | null;
  cpu_some_stall_secs: number | null;
  cpu_full_stall_secs: number | null;
  memory_some_stall_secs: number | null;
  memory_full_stall_secs: number | null;
  io_some_stall_secs: number | null;
  io_full_stall_secs: number | null;
}

/** The `cgroup` object of a sample. Counters are this interval; `null` = not available. */
export interface CgroupSample extends PressureStalls {
  /** 1 or 2: the hierarchy the memory and cpu controllers are on. */
  version: 1 | 2;
  /** The cgroup path as `/proc/<pid>/cgroup` shows it (v2 path, else v1 memory path). */
  path: string;
  memory_current_bytes: number | null;
  memory_peak_bytes: number | null;
  /** `null`: no limit (or unknown; see README). */
  memory_limit_bytes: number | null;
  memory_high_bytes: number | null;
  swap_current_bytes: number | null;
  swap_limit_bytes: number | null;
  memory_limit_hits: number | null;
  /** v2 only: times memory.high was exceeded this interval (allocations throttled). */
  memory_high_events: number | null;
  oom_events: number | null;
  oom_kills: number | null;
  cpu_quota_cores: number | null;
  cpu_period_us: number | null;
  cpu_periods: number | null;
  cpu_throttled_periods: number | null;
  cpu_throttled_secs: number | null;
  pids_current: number | null;
  pids_limit: number | null;
  /** Forks refused at `pids_limit` (pids.events `max`; read every 10th sample). */
  pids_limit_hits: number | null;
}

/** The parts of a sample that section collectors fill (collectors/sections.ts). */
export interface SectionSamples {
  memory: MemorySample;
  network: NetworkSample[];
  disk: DiskSample[];
}

export interface Sample extends SectionSamples {
  /** Unix seconds (floor) at the start of the loop iteration. */
  timestamp_secs: number;
  /** Unix milliseconds at the start of the loop iteration. */
  timestamp_ms: number;
  /** Monotonic ms since the previous iteration started; absent on the first sample. */
  actual_interval_ms?: number;
  job_name: string | null;
  tracked_pid: number | null;
  cpu: CpuSample;
  gpu: GpuSample[];
  /** Not in R's JSON: present only on hosts with energy counters (RAPL, hwmon, GPU power). */
  energy?: EnergySample;

  /**
   * Limits, throttling, OOM and pressure of the tracked process's cgroup (the tracker's when
   * system-wide); null when no cgroup is readable. Optional only for hand-built samples.
   */
  cgroup?: CgroupSample | null;
  "resource-tracker-version": string;
}
