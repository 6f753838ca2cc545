/**
 * Synthetic recorded runs with known truth, in each format `report` reads: our JSON Lines and
 * CSV (through the real encoders) and the Python tracker's combined CSV (docs/COMPATIBILITY.md §2.2: quoted
 * header, bare numbers, "" for None, \r\n, float MiB, 6-decimal times, empty children when 0).
 */
import type { Sample } from "../base/sample.ts";
import { encodeCsvRow } from "../formats/csv.ts";
import { CSV_HEADER } from "../formats/csv.ts";
import { encodeJsonLine } from "../formats/jsonl.ts";

export interface Shape {
  samples: number;
  intervalSecs: number;
  startMs?: number;
  vcpus?: number;
  hostMemMib?: number;
  /** Tree cores at sample i. */
  cores: (i: number) => number;
  /** Tree PSS MiB at sample i. */
  pssMib: (i: number) => number;
  /** Host cores (default: tree + 0.05). */
  hostCores?: (i: number) => number;
  /** Tree disk bytes per second at sample i (read, write). */
  io?: (i: number) => [number, number];
  swapMib?: (i: number) => number;
  tracked?: boolean;
}

export function synthSamples(s: Shape): Sample[] {
  const start = s.startMs ?? 1_780_000_000_000;
  const V = s.vcpus ?? 2, H = s.hostMemMib ?? 8192;
  const out: Sample[] = [];
  for (let i = 0; i < s.samples; i++) {
    const cores = s.cores(i), pss = s.pssMib(i);
    const [r, w] = s.io?.(i) ?? [0, 0];
    const host = s.hostCores?.(i) ?? Math.min(V, cores + 0.05);
    const used = Math.min(H, 1000 + Math.floor(pss));
    const tracked = s.tracked ?? true;
    const dt = s.intervalSecs;
    out.push({
      timestamp_secs: Math.floor((start + i * dt * 1000) / 1000),
      timestamp_ms: Math.floor(start + i * dt * 1000),
      ...(i > 0 ? { actual_interval_ms: Math.round(dt * 1000) } : {}),
      job_name: null,
      tracked_pid: tracked ? 4242 : null,
      cpu: {
        utilization_pct: host,
        cgroup_usage_secs: null,
        cgroup_utilization_pct: null,
        per_core_pct: Array.from({ length: V }, () => host / V * 100),
        utime_secs: host * dt,
        stime_secs: 0,
        process_count: 100,
        process_cores_used: tracked ? cores : null,
        process_child_count: tracked ? 0 : null,
        process_utime_secs: tracked ? cores * dt : null,
        process_stime_secs: tracked ? 0 : null,
        process_pss_mib: tracked ? Math.floor(pss) : null,
        process_rss_mib: tracked ? Math.floor(pss) + 2 : null,
        process_disk_read_bytes: tracked ? Math.floor(r * dt) : null,
        process_disk_write_bytes: tracked ? Math.floor(w * dt) : null,
        process_gpu_usage: null,
        process_gpu_vram_mib: null,
        process_gpu_utilized: null,
        process_unreadable_count: tracked ? 0 : null,
      },
      memory: {
        total_mib: H,
        free_mib: H - used - 300,
        available_mib: H - used,
        used_mib: used,
        used_pct: used / H * 100,
        buffers_mib: 100,
        cached_mib: 200,
        swap_total_mib: 1024,
        swap_used_mib: s.swapMib?.(i) ?? 0,
        swap_used_pct: 0,
        active_mib: 0,
        inactive_mib: 0,
      },
      network: [],
      disk: [{
        device: "vda",
        model: null,
        vendor: null,
        serial: null,
        device_type: "ssd",
        capacity_bytes: 1e11,
        virtual: false,
        mounts: [],
        read_bytes_per_sec: r,
        write_bytes_per_sec: w,
        read_bytes_total: 0,
        write_bytes_total: 0,
      }],
      gpu: [],
      "resource-tracker-version": "0.1.0",
    });
  }
  return out;
}

export const toJsonl = (xs: Sample[]) => xs.map(encodeJsonLine).join("");
export const toCsv = (xs: Sample[], interval: number) =>
  CSV_HEADER + xs.map((x) => encodeCsvRow(x, interval)).join("");

/** The Python tracker's combined streaming CSV for the same run. */
export function toPythonCsv(xs: Sample[]): string {
  const head = CSV_HEADER.trim().split(",").map((h) => `"${h}"`).join(",");
  const rows = xs.map((s, i) => {
    const dt = i > 0 ? (s.actual_interval_ms ?? 1000) / 1000 : 1;
    const c = s.cpu, m = s.memory;
    const f4 = (x: number) => x.toFixed(4);
    const pid = s.tracked_pid;
    const bytes = (bps: number) => String(Math.floor(bps * dt));
    return [
      (s.timestamp_ms / 1000).toFixed(3),
      c.process_count,
      c.utime_secs.toFixed(6),
      c.stime_secs.toFixed(6),
      f4(c.utilization_pct),
      f4(m.free_mib + 0.5625),
      f4(m.used_mib + 0.25),
      f4(m.buffers_mib),
      f4(m.cached_mib),
      f4(m.active_mib),
      f4(m.inactive_mib),
      bytes(s.disk[0]!.read_bytes_per_sec),
      bytes(s.disk[0]!.write_bytes_per_sec),
      "100.00",
      "40.00",
      "60.00",
      "0",
      "0",
      "0.0000",
      "0.0000",
      "0",
      pid === null ? '""' : pid,
      c.process_child_count ? c.process_child_count : '""',
      pid === null ? '""' : (c.process_utime_secs ?? 0).toFixed(6),
      pid === null ? '""' : (c.process_stime_secs ?? 0).toFixed(6),
      pid === null ? '""' : f4(c.process_cores_used ?? 0),
      pid === null ? '""' : f4((c.process_pss_mib ?? 0) + 0.4375),
      pid === null ? '""' : c.process_disk_read_bytes,
      pid === null ? '""' : c.process_disk_write_bytes,
      "0.0000",
      "0.0000",
      "0",
    ].join(",");
  });
  return [head, ...rows].join("\r\n") + "\r\n";
}
