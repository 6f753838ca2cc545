/**
 * Limits, counters and pressure of one cgroup (v1 or v2): `readCgroupStats` reads the raw
 * cumulative values (through collectors/read.ts, which keeps the files open), `deriveCgroupSample`
 * turns two readings into the sample's `cgroup` object. A file the kernel does not have (old
 * kernels, a controller not mounted) reads as `undefined` and becomes `null` in the sample.
 */
import {
  type CgroupDirs,
  type CpuLimit,
  keyedValue,
  parseBlkioBytes,
  parseCfsLimit,
  parseCount,
  parseCpuMaxLimit,
  parseIoStat,
  parseLimit,
  parsePressure,
  type Pressure,
} from "./cgroup_fs.ts";
import { readText } from "./read.ts";
import type { CgroupSample } from "../base/sample.ts";

export type { CgroupSample };

/** Raw cumulative values of one cgroup; `undefined` = the kernel has no such file. */
export interface CgroupReading {
  memory_current?: number | undefined;
  /** High-water mark (v2 memory.peak, v1 max_usage_in_bytes), since creation or reset. */
  memory_peak?: number | undefined;
  memory_limit?: number | null | undefined;
  memory_high?: number | null | undefined;
  swap_current?: number | undefined;
  swap_limit?: number | null | undefined;
  /** Times the limit was hit: v2 memory.events `max`, v1 memory.failcnt (read with limits). */
  limit_hits?: number | undefined;
  /** v2 memory.events `oom` (allocation failed at the limit); v1 has no counter. */
  oom?: number | undefined;
  /** v2 memory.events `high`: times memory.high was exceeded (the job was reclaim-throttled). */
  high_events?: number | undefined;
  /** pids.events `max`: forks refused at the task limit (read with the limits). */
  pids_refused?: number | undefined;
  /** OOM-killer kills: v2 memory.events `oom_kill`, v1 memory.oom_control `oom_kill`. */
  oom_kill?: number | undefined;
  cpu_limit?: CpuLimit | undefined;
  nr_periods?: number | undefined;
  nr_throttled?: number | undefined;
  throttled_us?: number | undefined;
  /** CPU usage in µs (v2 cpu.stat, v1 cpuacct); read for job cgroups only. */
  usage_us?: number | undefined;
  user_us?: number | undefined;
  system_us?: number | undefined;
  pids_current?: number | undefined;
  pids_limit?: number | null | undefined;
  pids_peak?: number | undefined;
  io?: { read: number; write: number } | undefined;
  psi_cpu?: Pressure | undefined;
  psi_memory?: Pressure | undefined;
  psi_io?: Pressure | undefined;
  /** The psi_* values are carried over from an earlier reading: no stall figures this time. */
  psi_carried?: boolean | undefined;
}

export interface ReadWhat {
  /** Limits and the peak: they change rarely, so callers read them every few samples. */
  limits: boolean;
  /** CPU usage and block I/O (job cgroup mode). */
  usage: boolean;
  /** PSI files (the monitor reads the host's only every few samples). */
  psi?: boolean;
  /**
   * cpu.stat's throttling counters. Only a quota throttles, so without one the monitor reads
   * them with the limits; job mode reads v2 cpu.stat anyway for the usage.
   */
  throttling?: boolean;
}

/**
 * Where PSI comes from: the process's v2 cgroup's own `*.pressure` files (also on v1 hosts with
 * a v2 `unified` mount), else the host's /proc/pressure. The real root cgroup (no `cgroup.type`
 * file) is left out: its figures are the host's. A container's cgroup namespace root shows as
 * `/` yet is a cgroup of its own, with `cgroup.type`.
 */
export function pressureDir(dirs: CgroupDirs, proc: string): { dir: string; host: boolean } {
  const u = dirs.unified;
  if (
    u !== undefined && readText(`${u}/cgroup.type`) !== undefined &&
    readText(`${u}/cpu.pressure`) !== undefined
  ) {
    return { dir: u, host: false };
  }
  return { dir: `${proc}/pressure`, host: true };
}

/**
 * The smallest limit in `file` of a v2 cgroup and its ancestors (a slice's MemoryMax= binds the
 * services in it). The walk stops where the file ends: the root cgroup has none.
 */
function effectiveV2Limit(dir: string, file: string): number | null | undefined {
  let limit = parseLimit(readText(at(dir, file)));
  if (limit === undefined) return undefined;
  for (
    let d = dir.slice(0, dir.lastIndexOf("/"));
    d.includes("/");
    d = d.slice(0, d.lastIndexOf("/"))
  ) {
    const up = parseLimit(readText(at(d, file)));
    if (up === undefined) break;
    if (up !== null && (limit === null || up < limit)) limit = up;
  }
  return limit;
}

/** Paths built once per directory: a sample then allocates no path strings. */
const paths = new Map<string, Map<string, string>>();
function at(dir: string, name: string): string {
  let m = paths.get(dir);
  if (!m) {
    if (paths.size > 256) paths.clear(); // bounded: cgroups come and go
    paths.set(dir, m = new Map());
  }
  let p = m.get(name);
  if (p === undefined) m.set(name, p = `${dir}/${name}`);
  return p;
}

/** Reads one cgroup's files. */
export function readCgroupStats(
  dirs: CgroupDirs,
  psi: { dir: string; host: boolean },
  what: ReadWhat,
): CgroupReading {
  const r: CgroupReading = {};
  const u = dirs.version === 2 ? dirs.unified : undefined;
  if (u !== undefined) {
    r.memory_current = parseCount(readText(at(u, "memory.current")));
    const ev = readText(at(u, "memory.events"));
    if (ev !== undefined) {
      r.limit_hits = keyedValue(ev, "max");
      r.high_events = keyedValue(ev, "high");
      r.oom = keyedValue(ev, "oom");
      r.oom_kill = keyedValue(ev, "oom_kill");
    }
    const cs = what.throttling !== false || what.usage ? readText(at(u, "cpu.stat")) : undefined;
    if (cs !== undefined) {
      r.nr_periods = keyedValue(cs, "nr_periods");
      r.nr_throttled = keyedValue(cs, "nr_throttled");
      r.throttled_us = keyedValue(cs, "throttled_usec");
      if (what.usage) {
        r.usage_us = keyedValue(cs, "usage_usec");
        r.user_us = keyedValue(cs, "user_usec");
        r.system_us = keyedValue(cs, "system_usec");
      }
    }
    r.pids_current = parseCount(readText(at(u, "pids.current")));
    if (what.limits) {
      r.memory_peak = parseCount(readText(at(u, "memory.peak")));
      r.memory_limit = effectiveV2Limit(u, "memory.max");
      r.memory_high = parseLimit(readText(at(u, "memory.high")));
      r.swap_current = parseCount(readText(at(u, "memory.swap.current")));
      r.swap_limit = parseLimit(readText(at(u, "memory.swap.max")));
      r.cpu_limit = parseCpuMaxLimit(readText(at(u, "cpu.max")));
      r.pids_limit = parseLimit(readText(at(u, "pids.max")));
      r.pids_peak = parseCount(readText(at(u, "pids.peak")));
      const pe = readText(at(u, "pids.events"));
      r.pids_refused = pe === undefined ? undefined : keyedValue(pe, "max");
    }
    if (what.usage) r.io = parseIoStat(readText(at(u, "io.stat")));
  } else {
    readV1(dirs, r, what);
  }
  // /proc/pressure/cpu, or a cgroup's cpu.pressure: the name is fixed by where they are.
  if (what.psi === false) return r;
  const h = psi.host;
  r.psi_cpu = parsePressure(readText(at(psi.dir, h ? "cpu" : "cpu.pressure")));
  r.psi_memory = parsePressure(readText(at(psi.dir, h ? "memory" : "memory.pressure")));
  r.psi_io = parsePressure(readText(at(psi.dir, h ? "io" : "io.pressure")));
  return r;
}

function readV1(dirs: CgroupDirs, r: CgroupReading, what: ReadWhat): void {
  const mem = dirs.memory;
  if (mem !== undefined) {
    r.memory_current = parseCount(readText(at(mem, "memory.usage_in_bytes")));
    const oc = readText(at(mem, "memory.oom_control"));
    if (oc !== undefined) r.oom_kill = keyedValue(oc, "oom_kill");
    if (what.limits) {
      r.limit_hits = parseCount(readText(at(mem, "memory.failcnt")));
      r.memory_peak = parseCount(readText(at(mem, "memory.max_usage_in_bytes")));
      // A parent's limit applies too: the kernel states the effective one in memory.stat.
      const own = parseLimit(readText(at(mem, "memory.limit_in_bytes")));
      const stat = readText(at(mem, "memory.stat"));
      const hier = stat === undefined
        ? undefined
        : parseLimit(String(keyedValue(stat, "hierarchical_memory_limit") ?? ""));
      r.memory_limit = typeof hier === "number" && (own === null || own === undefined || hier < own)
        ? hier
        : own;
      r.memory_high = null; // v1 has no throttling limit (soft_limit is a reclaim hint)
      // memsw counts memory + swap; its absence means swap accounting is off.
      const memsw = parseCount(readText(at(mem, "memory.memsw.usage_in_bytes")));
      if (memsw !== undefined && r.memory_current !== undefined) {
        r.swap_current = Math.max(0, memsw - r.memory_current);
        const swl = parseLimit(readText(at(mem, "memory.memsw.limit_in_bytes")));
        r.swap_limit = swl === null || swl === undefined || typeof r.memory_limit !== "number"
          ? (swl === undefined ? undefined : null)
          : Math.max(0, swl - r.memory_limit);
      }
    }
  }
  if (dirs.cpu !== undefined) {
    const cs = what.throttling !== false ? readText(at(dirs.cpu, "cpu.stat")) : undefined;
    if (cs !== undefined) {
      r.nr_periods = keyedValue(cs, "nr_periods");
      r.nr_throttled = keyedValue(cs, "nr_throttled");
      const ns = keyedValue(cs, "throttled_time");
      r.throttled_us = ns === undefined ? undefined : ns / 1000;
    }
    if (what.limits) {
      r.cpu_limit = parseCfsLimit(
        readText(at(dirs.cpu, "cpu.cfs_quota_us")),
        readText(at(dirs.cpu, "cpu.cfs_period_us")),
      );
    }
  }
  if (what.usage && dirs.cpuacct !== undefined) {
    const ns = parseCount(readText(at(dirs.cpuacct, "cpuacct.usage")));
    r.usage_us = ns === undefined ? undefined : ns / 1000;
    const user = parseCount(readText(at(dirs.cpuacct, "cpuacct.usage_user")));
    const sys = parseCount(readText(at(dirs.cpuacct, "cpuacct.usage_sys")));
    if (user !== undefined && sys !== undefined) {
      r.user_us = user / 1000;
      r.system_us = sys / 1000;
    }
  }
  if (dirs.pids !== undefined) {
    r.pids_current = parseCount(readText(at(dirs.pids, "pids.current")));
    if (what.limits) {
      r.pids_limit = parseLimit(readText(at(dirs.pids, "pids.max")));
      r.pids_peak = parseCount(readText(at(dirs.pids, "pids.peak")));
      const pe = readText(at(dirs.pids, "pids.events"));
      r.pids_refused = pe === undefined ? undefined : keyedValue(pe, "max");
    }
  }
  if (what.usage && dirs.blkio !== undefined) {
    r.io = parseBlkioBytes(
      readText(at(dirs.blkio, "blkio.throttle.io_service_bytes_recursive")) ??
        readText(at(dirs.blkio, "blkio.throttle.io_service_bytes")),
    );
  }
}

/** Δ of a counter; 0 on the first reading, never negative (a reset reads as 0). */
function delta(prev: number | undefined, curr: number | undefined, first: boolean): number | null {
  if (curr === undefined) return null;
  if (first || prev === undefined) return 0;
  return Math.max(0, curr - prev);
}

const gauge = (v: number | null | undefined) => (v === undefined ? null : v);

function stall(
  prev: Pressure | undefined,
  curr: Pressure | undefined,
  key: "some_us" | "full_us",
  first: boolean,
  carried: boolean,
): number | null {
  const c = curr?.[key];
  if (c === undefined || c === null || carried) return null;
  const p = prev?.[key];
  const d = delta(p ?? undefined, c, first);
  return d === null ? null : d / 1e6;
}

/**
 * One interval's `cgroup` object. `prev` is undefined on the first reading of this cgroup
 * (counters 0); `limits` carries the last read limits when `curr` did not re-read them.
 */
export function deriveCgroupSample(
  dirs: CgroupDirs,
  psiHost: boolean,
  prev: CgroupReading | undefined,
  curr: CgroupReading,
  limits: CgroupReading,
): CgroupSample {
  const first = prev === undefined;
  const cl = limits.cpu_limit;
  const hasPsi = curr.psi_cpu !== undefined || curr.psi_memory !== undefined ||
    curr.psi_io !== undefined;
  const throttled = delta(prev?.throttled_us, curr.throttled_us, first);
  return {
    version: dirs.version,
    path: dirs.path,
    memory_current_bytes: gauge(curr.memory_current),
    memory_peak_bytes: gauge(limits.memory_peak),
    memory_limit_bytes: gauge(limits.memory_limit),
    memory_high_bytes: gauge(limits.memory_high),
    swap_current_bytes: gauge(limits.swap_current),
    swap_limit_bytes: gauge(limits.swap_limit),
    memory_limit_hits: delta(prev?.limit_hits, curr.limit_hits, first),
    memory_high_events: delta(prev?.high_events, curr.high_events, first),
    oom_events: delta(prev?.oom, curr.oom, first),
    oom_kills: delta(prev?.oom_kill, curr.oom_kill, first),
    cpu_quota_cores: cl?.quota_us != null ? cl.quota_us / cl.period_us : null,
    cpu_period_us: cl?.period_us ?? null,
    cpu_periods: delta(prev?.nr_periods, curr.nr_periods, first),
    cpu_throttled_periods: delta(prev?.nr_throttled, curr.nr_throttled, first),
    cpu_throttled_secs: throttled === null ? null : throttled / 1e6,
    pids_current: gauge(curr.pids_current),
    pids_limit: gauge(limits.pids_limit),
    pids_limit_hits: delta(prev?.pids_refused, curr.pids_refused, first),
    pressure_source: hasPsi ? (psiHost ? "host" : "cgroup") : null,
    cpu_some_stall_secs: stall(
      prev?.psi_cpu,
      curr.psi_cpu,
      "some_us",
      first,
      curr.psi_carried === true,
    ),
    cpu_full_stall_secs: stall(
      prev?.psi_cpu,
      curr.psi_cpu,
      "full_us",
      first,
      curr.psi_carried === true,
    ),
    memory_some_stall_secs: stall(
      prev?.psi_memory,
      curr.psi_memory,
      "some_us",
      first,
      curr.psi_carried === true,
    ),
    memory_full_stall_secs: stall(
      prev?.psi_memory,
      curr.psi_memory,
      "full_us",
      first,
      curr.psi_carried === true,
    ),
    io_some_stall_secs: stall(
      prev?.psi_io,
      curr.psi_io,
      "some_us",
      first,
      curr.psi_carried === true,
    ),
    io_full_stall_secs: stall(
      prev?.psi_io,
      curr.psi_io,
      "full_us",
      first,
      curr.psi_carried === true,
    ),
  };
}
