/**
 * Where a process's cgroups are and what their files say. Pure parsers of `/proc/<pid>/cgroup`,
 * the mount table and the cgroup v1/v2 interface files; `resolveCgroup` maps one process to its
 * directories through the tracker's mount table and the `--sysfs` root.
 *
 * Units: bytes, counts and microseconds as the kernel writes them (v1 `cpuacct` and
 * `throttled_time` are nanoseconds and are converted to µs by the readers).
 */

/** A process's cgroup paths: the v2 path (`0::/…`) and the v1 path per controller. */
export interface ProcCgroup {
  v2: string | null;
  v1: Map<string, string>;
}

/** Parses `/proc/<pid>/cgroup` (`id:controllers:path` lines). `name=systemd` keeps its name. */
export function parseProcCgroup(text: string): ProcCgroup {
  const out: ProcCgroup = { v2: null, v1: new Map() };
  for (const line of text.split("\n")) {
    const a = line.indexOf(":"), b = line.indexOf(":", a + 1);
    if (a < 0 || b < 0) continue;
    const controllers = line.slice(a + 1, b), path = line.slice(b + 1);
    if (!path.startsWith("/")) continue;
    if (line.slice(0, a) === "0" && controllers === "") out.v2 = path;
    else for (const c of controllers.split(",")) if (c) out.v1.set(c, path);
  }
  return out;
}

/** One cgroup filesystem mount: v2 (`cgroup2`) or a v1 hierarchy with its controllers. */
export interface CgroupMount {
  v2: boolean;
  /** Mount point in the tracker's mount namespace. */
  mountPoint: string;
  /** The cgroup shown at the mount point (not `/` for a container's bind mount). */
  root: string;
  controllers: string[];
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
const unescape = (s: string) =>
  s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** Cgroup mounts of a `/proc/self/mountinfo` text. */
export function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const out: CgroupMount[] = [];
  for (const line of mountinfo.split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(" "), right = line.slice(sep + 3).split(" ");
    const type = right[0];
    if ((type !== "cgroup" && type !== "cgroup2") || left.length < 5) continue;
    const opts = (right[2] ?? "").split(",");
    out.push({
      v2: type === "cgroup2",
      mountPoint: unescape(left[4]!),
      root: unescape(left[3]!),
      controllers: type === "cgroup2"
        ? []
        : opts.filter((o) => V1_CONTROLLERS.has(o) || o.startsWith("name=")),
    });
  }
  return out;
}

const V1_CONTROLLERS = new Set([
  "cpu",
  "cpuacct",
  "cpuset",
  "memory",
  "devices",
  "freezer",
  "net_cls",
  "blkio",
  "perf_event",
  "net_prio",
  "hugetlb",
  "pids",
  "rdma",
  "misc",
]);

/** The directories of one process's cgroups that the tracker reads. */
export interface CgroupDirs {
  /** 2 when the memory and cpu controllers are on the v2 hierarchy (or nothing is on v1). */
  version: 1 | 2;
  /** The cgroup's path as the process sees it (v2 path, else the v1 memory path). */
  path: string;
  /** v2: the one directory; v1: per controller. Absent when not mounted/visible. */
  unified?: string;
  /** The v2 path, when `unified` is set. */
  unifiedPath?: string;
  memory?: string;
  cpu?: string;
  cpuacct?: string;
  pids?: string;
  blkio?: string;
}

/**
 * Maps a mount point of the tracker's namespace under `--sysfs`: `/sys/fs/cgroup/x` reads as
 * `<sys>/fs/cgroup/x` so a host's /sys mounted at /host/sys is followed.
 */
function underSys(mountPoint: string, sys: string): string {
  if (sys === "/sys" || !(mountPoint === "/sys" || mountPoint.startsWith("/sys/"))) {
    return mountPoint;
  }
  return sys + mountPoint.slice(4);
}

/** `path` seen through a mount showing `root`; undefined when the mount does not show it. */
function through(m: CgroupMount, path: string, sys: string): string | undefined {
  const root = m.root === "/" ? "" : m.root;
  if (root && path !== root && !path.startsWith(root + "/")) return undefined;
  const rel = path.slice(root.length);
  return underSys(m.mountPoint, sys) + (rel === "/" ? "" : rel);
}

/**
 * The directories for a process. Mounts come from the tracker's mount table; without one, the
 * usual places under `<sys>/fs/cgroup` are assumed (v2 at the top, v1 per controller).
 */
export function resolveCgroup(pc: ProcCgroup, mounts: CgroupMount[], sys: string): CgroupDirs {
  const ms = mounts.length > 0 ? mounts : defaultMounts(sys, pc);
  const dirs: CgroupDirs = { version: 2, path: pc.v2 ?? "/" };
  for (const c of ["memory", "cpu", "cpuacct", "pids", "blkio"] as const) {
    const path = pc.v1.get(c);
    if (path === undefined) continue;
    for (const m of ms) {
      if (m.v2 || !m.controllers.includes(c)) continue;
      const dir = through(m, path, sys);
      if (dir !== undefined) dirs[c] = dir;
      break;
    }
  }
  if (pc.v2 !== null) {
    for (const m of ms) {
      if (!m.v2) continue;
      const dir = through(m, pc.v2, sys);
      if (dir !== undefined) {
        dirs.unified = dir;
        dirs.unifiedPath = pc.v2;
        break;
      }
    }
  }
  if (dirs.memory !== undefined || dirs.cpu !== undefined) {
    dirs.version = 1;
    dirs.path = pc.v1.get("memory") ?? pc.v1.get("cpu") ?? dirs.path;
  }
  return dirs;
}

function defaultMounts(sys: string, pc: ProcCgroup): CgroupMount[] {
  const base = "/sys/fs/cgroup";
  if (pc.v1.size === 0) return [{ v2: true, mountPoint: base, root: "/", controllers: [] }];
  const out: CgroupMount[] = [
    { v2: true, mountPoint: `${base}/unified`, root: "/", controllers: [] },
  ];
  for (const c of pc.v1.keys()) {
    out.push({ v2: false, mountPoint: `${base}/${c}`, root: "/", controllers: [c] });
  }
  void sys;
  return out;
}

/**
 * v1 "no limit" is PAGE_COUNTER_MAX pages (9223372036854771712 with 4 KiB pages), which
 * `Number` rounds: anything at or above 2^62 is no limit.
 */
const V1_UNLIMITED = 2 ** 62;

/** A limit file: `max` (v2) or a huge v1 value is `null` (no limit); junk is `undefined`. */
export function parseLimit(text: string | undefined): number | null | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (t === "max") return null;
  if (!/^-?\d+$/.test(t)) return undefined;
  const n = Number(t);
  return n < 0 || n >= V1_UNLIMITED ? null : n;
}

/** A plain integer file (memory.current, pids.current …); `undefined` when missing or junk. */
export function parseCount(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : undefined;
}

/** CFS bandwidth: quota and period in µs; quota null = unlimited. */
export interface CpuLimit {
  quota_us: number | null;
  period_us: number;
}

/** v2 `cpu.max`: "quota period" or "max period". */
export function parseCpuMaxLimit(text: string | undefined): CpuLimit | undefined {
  if (text === undefined) return undefined;
  const [q, p] = text.trim().split(/\s+/);
  const period = Number(p);
  if (!(period > 0)) return undefined;
  if (q === "max") return { quota_us: null, period_us: period };
  const quota = Number(q);
  return quota > 0 ? { quota_us: quota, period_us: period } : undefined;
}

/** v1 `cpu.cfs_quota_us` (−1 = unlimited) and `cpu.cfs_period_us`. */
export function parseCfsLimit(
  quota: string | undefined,
  period: string | undefined,
): CpuLimit | undefined {
  const p = Number(period?.trim());
  const q = Number(quota?.trim());
  if (quota === undefined || period === undefined || !(p > 0) || !Number.isFinite(q)) {
    return undefined;
  }
  return { quota_us: q > 0 ? q : null, period_us: p };
}

/** Cumulative stall totals (µs) of one PSI file. `full` is absent for cpu on old kernels. */
export interface Pressure {
  some_us: number;
  full_us: number | null;
}

/** Parses a PSI file: `some avg10=… total=N` / `full … total=N` (per sample: no regex). */
export function parsePressure(text: string | undefined): Pressure | undefined {
  if (text === undefined || !text.startsWith("some ")) return undefined;
  const some = totalAfter(text, 0);
  if (some === undefined) return undefined;
  const f = text.indexOf("\nfull ");
  return { some_us: some, full_us: f < 0 ? null : totalAfter(text, f) ?? null };
}

function totalAfter(text: string, from: number): number | undefined {
  const i = text.indexOf("total=", from);
  if (i < 0) return undefined;
  let end = i + 6;
  while (end < text.length && text.charCodeAt(end) >= 48 && text.charCodeAt(end) <= 57) end++;
  return end > i + 6 ? Number(text.slice(i + 6, end)) : undefined;
}

/** The value of `key` in a flat-keyed file (`key value` lines), without building a map. */
export function keyedValue(text: string, key: string): number | undefined {
  let i = text.startsWith(key + " ") ? 0 : text.indexOf("\n" + key + " ");
  if (i < 0) return undefined;
  if (i > 0 || text.charCodeAt(0) === 10) i++;
  const start = i + key.length + 1;
  let end = text.indexOf("\n", start);
  if (end < 0) end = text.length;
  const v = text.slice(start, end).trim();
  return /^\d+$/.test(v) ? Number(v) : undefined;
}

/** Bytes read and written per the v2 `io.stat` (`maj:min rbytes=… wbytes=…` per device). */
export function parseIoStat(text: string | undefined): { read: number; write: number } | undefined {
  if (text === undefined) return undefined;
  let read = 0, write = 0;
  for (const m of text.matchAll(/\brbytes=(\d+)|\bwbytes=(\d+)/g)) {
    if (m[1] !== undefined) read += Number(m[1]);
    else write += Number(m[2]);
  }
  return { read, write };
}

/** v1 `blkio.throttle.io_service_bytes[_recursive]`: `maj:min Read N` lines (Total skipped). */
export function parseBlkioBytes(
  text: string | undefined,
): { read: number; write: number } | undefined {
  if (text === undefined) return undefined;
  let read = 0, write = 0;
  for (const line of text.split("\n")) {
    const m = /^\d+:\d+ (Read|Write) (\d+)$/.exec(line.trim());
    if (!m) continue;
    if (m[1] === "Read") read += Number(m[2]);
    else write += Number(m[2]);
  }
  return { read, write };
}
