/**
 * One run as columns: every recording format (our JSON Lines, our CSV, the Python tracker's
 * combined CSV) is read into this shape. Missing values are NaN; units are in the names.
 */

/** Per-sample columns. Rates are per second over the sample's own interval. */
export const COLUMNS = [
  /** Unix milliseconds at the start of the sample. */
  "t",
  /** Seconds this sample covers (measured interval). */
  "dt",
  /** Host CPU in fractional cores. */
  "hostCores",
  /** Tracked process tree in fractional cores (NaN when nothing was tracked). */
  "procCores",
  /** Tree PSS, MiB. */
  "procPssMib",
  /** Tree RSS, MiB (JSON only). */
  "procRssMib",
  /** Host memory used (total − available), MiB. */
  "hostMemUsedMib",
  /** Host memory total, MiB (JSON only; CSV from the sidecar). */
  "hostMemTotalMib",
  "swapUsedMib",
  /** Host disk I/O, bytes per second (physical devices). */
  "diskReadBps",
  "diskWriteBps",
  /** Tracked tree's disk I/O, bytes per second. */
  "procReadBps",
  "procWriteBps",
  /** Host network, bytes per second. */
  "netRxBps",
  "netTxBps",
  /** Host GPUs busy, fractional GPUs (Σ utilisation ÷ 100). */
  "gpuUsage",
  /** Host VRAM used, MiB. */
  "gpuVramMib",
  /** Tree GPU use (fractional GPUs) and VRAM (MiB). */
  "procGpuUsage",
  "procGpuVramMib",
  /** GPUs the tree (or anything, untracked) has a process on. */
  "procGpuUtilized",
  /** Σ GPU board power, W. */
  "gpuWatts",
  /** Measured power over the sample (CPU packages + DRAM + GPUs), W; NaN without counters. */
  "energyWatts",
  /** Measured energy in the sample, J. */
  "energyJoules",
] as const;

export type Column = typeof COLUMNS[number];

export type Columns = Record<Column, number[]>;

export function emptyColumns(): Columns {
  return Object.fromEntries(COLUMNS.map((c) => [c, [] as number[]])) as unknown as Columns;
}

/** What the tracker wrote about the run beside the samples (`FILE.run.json`). */
export interface RunRecord {
  resource_tracker_run: 1;
  version?: string;
  command?: readonly string[] | null;
  tracked_pid?: number | null;
  exit_code?: number | null;
  started_at?: string;
  finished_at?: string;
  interval_secs?: number;
  metadata?: Record<string, string | null>;
  tags?: Record<string, string>;
  /** host_* wire fields (Sentinel names). */
  host?: Record<string, unknown>;
  /** cloud_* fields. */
  cloud?: Record<string, unknown>;
  /** The memory limit of the tracker's cgroup, MiB (null: unlimited or unknown). */
  memory_limit_mib?: number | null;
  /** The CFS quota of the tracker's cgroup in cores (null: none). */
  cpu_quota_cores?: number | null;
  /** How energy was counted during the run (collectors/energy). */
  energy?: Record<string, unknown>;
}

export type SourceFormat = "jsonl" | "csv" | "python-csv";

export interface Recording {
  /** Files read, in time order. */
  files: string[];
  format: SourceFormat;
  cols: Columns;
  /** Sidecar run record, when found. */
  run: RunRecord | null;
  /** A PID was tracked (process columns carry numbers). */
  tracked: boolean;
  /** Host facts gathered from the samples and the sidecar (null: unknown). */
  host: {
    vcpus: number | null;
    memoryMib: number | null;
    /** How memoryMib is known. */
    memorySource: "samples" | "sidecar" | "estimated" | null;
    gpuCount: number | null;
    gpuModel: string | null;
    gpuMemoryMib: number | null;
    cpuModel: string | null;
  };
  /** Lines worth telling the reader (skipped rows, duplicate timestamps …). */
  notes: string[];
}

export const n = (v: unknown): number =>
  typeof v === "number" && Number.isFinite(v)
    ? v
    : typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v))
    ? Number(v)
    : NaN;
