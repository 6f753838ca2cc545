/**
 * The Sentinel/R CSV (docs/COMPATIBILITY.md §2.1, Part A): one fixed 32-column header, plain comma join, no
 * quoting, `\n` line ends. Per-interval byte columns are rate × measured interval, truncated.
 */
import type { Sample } from "../base/sample.ts";
import { MIB } from "../base/units.ts";

export const CSV_COLUMNS = [
  "timestamp",
  "system_processes",
  "system_utime",
  "system_stime",
  "system_cpu_usage",
  "system_memory_free_mib",
  "system_memory_used_mib",
  "system_memory_buffers_mib",
  "system_memory_cached_mib",
  "system_memory_active_mib",
  "system_memory_inactive_mib",
  "system_disk_read_bytes",
  "system_disk_write_bytes",
  "system_disk_space_total_gb",
  "system_disk_space_used_gb",
  "system_disk_space_free_gb",
  "system_net_recv_bytes",
  "system_net_sent_bytes",
  "system_gpu_usage",
  "system_gpu_vram_mib",
  "system_gpu_utilized",
  "process_pid",
  "process_children",
  "process_utime",
  "process_stime",
  "process_cpu_usage",
  "process_memory_mib",
  "process_disk_read_bytes",
  "process_disk_write_bytes",
  "process_gpu_usage",
  "process_gpu_vram_mib",
  "process_gpu_utilized",
] as const;

export const CSV_HEADER = CSV_COLUMNS.join(",") + "\n";

/** Fixed-point text; non-finite values print as 0 so a row never carries NaN. */
function fixed(value: number, digits: number): string {
  const v = Number.isFinite(value) ? value : 0;
  // toFixed switches to exponent notation from 1e21; print such values in full instead.
  return Math.abs(v) < 1e21
    ? v.toFixed(digits)
    : `${bigInt(v)}${digits > 0 ? "." : ""}${"0".repeat(digits)}`;
}

/** All the digits of a large integer-valued number (no `1e+21`). */
const bigInt = (v: number) => BigInt(Math.trunc(v)).toString();

/** Bytes for the interval from a per-second rate: truncated toward zero, never negative. */
function bytes(ratePerSec: number, secs: number): number {
  const v = Math.trunc(ratePerSec * secs);
  return Number.isFinite(v) && v > 0 ? v : 0;
}

const opt = (v: number | null, f: (n: number) => string) => (v === null ? "" : f(v));
/** An integer column: always digits (never `9.765625e+25`, never `NaN`). */
const int = (n: number) =>
  !Number.isFinite(n) ? "0" : Math.abs(n) < 1e21 ? String(Math.trunc(n)) : bigInt(n);

/**
 * One CSV row (with `\n`). `intervalSecs` is the configured interval, used only for the first
 * sample, which has no measured `actual_interval_ms`.
 */
export function encodeCsvRow(s: Sample, intervalSecs: number): string {
  const secs = s.actual_interval_ms !== undefined ? s.actual_interval_ms / 1000 : intervalSecs;
  let diskRead = 0, diskWrite = 0, spaceTotal = 0, spaceFree = 0;
  for (const d of s.disk) {
    // Stacked devices (dm, md, zram …) repeat their members' I/O: count physical devices only.
    if (!d.virtual) {
      diskRead += bytes(d.read_bytes_per_sec, secs);
      diskWrite += bytes(d.write_bytes_per_sec, secs);
    }
    for (const m of d.mounts) {
      spaceTotal += m.total_bytes;
      spaceFree += m.available_bytes;
    }
  }
  let netRecv = 0, netSent = 0;
  for (const n of s.network) {
    netRecv += bytes(n.rx_bytes_per_sec, secs);
    netSent += bytes(n.tx_bytes_per_sec, secs);
  }
  let gpuUsage = 0, gpuVram = 0, gpuUtilized = 0;
  for (const g of s.gpu) {
    gpuUsage += g.utilization_pct / 100;
    gpuVram += g.vram_used_bytes / MIB;
    if (g.utilization_pct > 0) gpuUtilized++;
  }
  const c = s.cpu;
  const m = s.memory;
  const tracked = s.tracked_pid !== null;
  const proc = <T>(v: T | null, f: (x: T) => string) => (tracked && v !== null ? f(v) : "");
  const row = [
    fixed(s.timestamp_ms / 1000, 3),
    int(c.process_count),
    fixed(c.utime_secs, 3),
    fixed(c.stime_secs, 3),
    fixed(c.utilization_pct, 4),
    int(m.free_mib),
    int(m.used_mib),
    int(m.buffers_mib),
    int(m.cached_mib),
    int(m.active_mib),
    int(m.inactive_mib),
    int(diskRead),
    int(diskWrite),
    fixed(spaceTotal / 1e9, 6),
    fixed((spaceTotal - spaceFree) / 1e9, 6),
    fixed(spaceFree / 1e9, 6),
    int(netRecv),
    int(netSent),
    fixed(gpuUsage, 4),
    fixed(gpuVram, 4),
    int(gpuUtilized),
    opt(s.tracked_pid, int),
    proc(c.process_child_count, int),
    proc(c.process_utime_secs, (v) => fixed(v, 4)),
    proc(c.process_stime_secs, (v) => fixed(v, 4)),
    proc(c.process_cores_used, (v) => fixed(v, 4)),
    proc(c.process_pss_mib, (v) => fixed(v, 4)), // fractional MiB, as the reference CSV
    proc(c.process_disk_read_bytes, int),
    proc(c.process_disk_write_bytes, int),
    opt(c.process_gpu_usage, (v) => fixed(v, 4)),
    opt(c.process_gpu_vram_mib, (v) => fixed(v, 4)),
    opt(c.process_gpu_utilized, int),
  ];
  return row.join(",") + "\n";
}
