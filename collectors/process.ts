/**
 * A process tree under procfs: discovery from its root through
 * `/proc/<pid>/task/<tid>/children` (never a scan of every process on the host, unless the
 * kernel lacks CONFIG_PROC_CHILDREN), and the per-process counters the tracker needs.
 * Units: CPU in clock ticks (USER_HZ), memory in kB, I/O in bytes.
 */
import { listDir, readText } from "./read.ts";

export interface PidStat {
  pid: number;
  ppid: number;
  /** Single-letter state (`R`, `S`, `Z` …). */
  state: string;
  utime: number;
  stime: number;
  /** CPU of waited-for children; negative values (old kernels) read as 0. */
  cutime: number;
  cstime: number;
  /** Start time in ticks since boot: tells a reused PID from the one we saw before. */
  starttime: number;
  /** Threads in the process (field 20). */
  threads: number;
  /** The whole line: unchanged text means the process did not run, fault or reap since. */
  raw: string;
}

/**
 * Parses /proc/<pid>/stat. The command name is in parentheses and may itself contain spaces
 * and parentheses, so fields are counted from the last `)`.
 */
export function parsePidStat(text: string): PidStat | undefined {
  const close = text.lastIndexOf(")");
  const open = text.indexOf("(");
  if (close < 0 || open < 0) return undefined;
  const pid = Number(text.slice(0, open).trim());
  const f = text.slice(close + 2).split(" ");
  // f[0] = state (field 3), f[1] = ppid (4), f[11..14] = utime stime cutime cstime (14–17),
  // f[17] = num_threads (20), f[19] = starttime (22).
  if (f.length < 20) return undefined;
  const n = (i: number) => Number(f[i]);
  const values = [pid, n(1), n(11), n(12), n(13), n(14), n(17), n(19)];
  if (!values.every(Number.isFinite)) return undefined;
  // CPU times, threads and start time are never negative (cutime/cstime are clamped below).
  if (n(11) < 0 || n(12) < 0 || n(17) < 0 || n(19) < 0) return undefined;
  return {
    pid,
    ppid: n(1),
    state: f[0]!,
    utime: n(11),
    stime: n(12),
    cutime: Math.max(0, n(13)),
    cstime: Math.max(0, n(14)),
    starttime: n(19),
    threads: n(17),
    raw: text,
  };
}

/** PIDs listed in a `children` file (space separated). */
export function parseChildren(text: string): number[] {
  const out: number[] = [];
  for (const word of text.split(/\s+/)) {
    const pid = /^\d+$/.test(word) ? Number(word) : NaN;
    if (Number.isSafeInteger(pid)) out.push(pid);
  }
  return out;
}

function kbField(text: string, name: string): number | undefined {
  const at = text.indexOf(`\n${name}:`);
  const start = text.startsWith(`${name}:`) ? 0 : at < 0 ? -1 : at + 1;
  if (start < 0) return undefined;
  const match = /^[^:]+:\s+(\d+)/.exec(text.slice(start, start + 64));
  const kb = match ? Number(match[1]) : NaN;
  return Number.isFinite(kb) ? kb : undefined;
}

/** `VmRSS:` of /proc/<pid>/status in kB (absent for kernel threads and zombies). */
export function parseStatusRss(text: string): number | undefined {
  return kbField(text, "VmRSS");
}

/** `Pss:` of /proc/<pid>/smaps_rollup in kB. */
export function parseSmapsRollupPss(text: string): number | undefined {
  return kbField(text, "Pss");
}

export interface PidIo {
  read_bytes: number;
  write_bytes: number;
}

/** `read_bytes` / `write_bytes` of /proc/<pid>/io: bytes that reached the block layer. */
export function parseIo(text: string): PidIo | undefined {
  const r = /^read_bytes:\s+(\d+)/m.exec(text);
  const w = /^write_bytes:\s+(\d+)/m.exec(text);
  const read = Number(r?.[1]), write = Number(w?.[1]);
  return Number.isFinite(read) && Number.isFinite(write)
    ? { read_bytes: read, write_bytes: write }
    : undefined;
}

/** @param prev the last parse of this PID, reused when the text is unchanged (idle process) */
export function readPidStat(proc: string, pid: number, prev?: PidStat): PidStat | undefined {
  const text = readText(`${proc}/${pid}/stat`);
  if (text === undefined) return undefined;
  return prev !== undefined && prev.raw === text ? prev : parsePidStat(text);
}

/**
 * Children of every thread of `pid`, or `undefined` when the kernel has no `children` files.
 * A single-threaded process has one `children` file; only threaded ones need the task listing.
 */
export function readChildren(proc: string, pid: number, threads = 0): number[] | undefined {
  const tids = threads === 1 ? [String(pid)] : listDir(`${proc}/${pid}/task`);
  let supported = false;
  const out: number[] = [];
  for (const tid of tids) {
    const text = readText(`${proc}/${pid}/task/${tid}/children`);
    if (text === undefined) continue;
    supported = true;
    for (const c of parseChildren(text)) out.push(c);
  }
  return supported || tids.length === 0 ? out : undefined;
}

/**
 * Whether `pid` runs (a zombie does not) and, given its start time, is still the same process:
 * PIDs get reused.
 */
export function isRunning(proc: string, pid: number, start?: number): boolean {
  const st = readPidStat(proc, pid);
  return st !== undefined && isLive(st) && (start === undefined || st.starttime === start);
}

/** Not a zombie or dead entry: the process still runs. */
export function isLive(st: PidStat): boolean {
  return st.state !== "Z" && st.state !== "X";
}

export interface TreeScan {
  /** stat of every live process of the tree (roots first), including zombies not yet reaped. */
  stats: Map<number, PidStat>;
  /** True when the `children` files were missing and every process had to be read. */
  fullScan: boolean;
  /** Per PID: CPU run time (ns, from schedstat), children, scans since its last full read. */
  seen: Map<number, { run: string; kids: number[]; age: number }>;
  /** Listed processes that could not be read (reaped or exited during the scan). */
  missed: number;
}

/** Re-read a process that has not run at least this often (scans): reclaim, adoption. */
export const IDLE_RESCAN = 10;

/** Total CPU time a process has run, in ns (first field of /proc/<pid>/schedstat). */
function readRunNs(proc: string, pid: number): string | undefined {
  const text = readText(`${proc}/${pid}/schedstat`);
  if (text === undefined) return undefined;
  const end = text.indexOf(" ");
  return end > 0 ? text.slice(0, end) : undefined;
}

/** Builds ppid → children from every /proc/<pid>/stat: the fallback for old kernels. */
function scanAll(proc: string): { stats: Map<number, PidStat>; kids: Map<number, number[]> } {
  const stats = new Map<number, PidStat>();
  const kids = new Map<number, number[]>();
  for (const name of listDir(proc)) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const st = readPidStat(proc, Number(name));
    if (!st) continue;
    stats.set(st.pid, st);
    const list = kids.get(st.ppid);
    if (list) list.push(st.pid);
    else kids.set(st.ppid, [st.pid]);
  }
  return { stats, kids };
}

/**
 * The roots and all their descendants, parents before their children. Walks `children` files
 * from the roots, so the cost follows the tree's size, not the host's.
 *
 * Consistency with reaping (core/tree_delta.ts relies on it): a process's children list is read
 * before its stat. A child reaped before the list is read is in the parent's stat already; one
 * reaped after it is listed but cannot be read: it is counted in `missed` and in nobody's
 * counters this time, never in two. Misses are what a caller retries on.
 *
 * `follow` (the members of the last scan, by PID, with their start time) keeps members that left
 * the walk while alive (an orphan re-parented to init when the tracker is not its subreaper):
 * one extra failed stat read per vanished member.
 *
 * With `prev` (the last scan), a single-threaded process whose run time (schedstat, ns) has not
 * changed did not run at all since: it cannot have forked, reaped, done I/O or touched memory,
 * so its stat and children are reused after one small read instead of two or more (schedstat
 * covers the main thread only, so threaded processes are always read). Every process is read
 * in full at least every IDLE_RESCAN scans. Unchanged stat lines also skip parsing.
 */
export function scanTree(
  proc: string,
  roots: readonly number[],
  prev?: TreeScan,
  follow?: ReadonlyMap<number, { readonly starttime: number }>,
): TreeScan {
  const stats = new Map<number, PidStat>();
  const seen: TreeScan["seen"] = new Map();
  let all: ReturnType<typeof scanAll> | undefined;
  let missed = 0;
  const queue = [...roots];
  const lost = new Set<number>();
  const walk = () => {
    while (queue.length > 0) {
      const pid = queue.shift()!;
      if (stats.has(pid)) continue;
      const before = prev?.stats.get(pid);
      const was = prev?.seen.get(pid);
      const run = all ? undefined : readRunNs(proc, pid);
      if (
        before && was && before.threads === 1 && run !== undefined && run === was.run &&
        was.age < IDLE_RESCAN
      ) {
        stats.set(pid, before);
        seen.set(pid, { run, kids: was.kids, age: was.age + 1 });
        for (const k of was.kids) queue.push(k);
        continue;
      }
      let kids = all ? all.kids.get(pid) : readChildren(proc, pid, before?.threads ?? 0);
      const st = all ? all.stats.get(pid) : readPidStat(proc, pid, before);
      if (!st) {
        if (!lost.has(pid)) missed++;
        continue;
      }
      if (lost.has(pid) && follow!.get(pid)?.starttime !== st.starttime) continue; // reused PID
      stats.set(pid, st);
      if (kids === undefined) {
        all ??= scanAll(proc);
        kids = all.kids.get(pid) ?? [];
      }
      if (run !== undefined) seen.set(pid, { run, kids, age: 0 });
      for (const k of kids) queue.push(k);
    }
  };
  walk();
  if (follow) {
    for (const pid of follow.keys()) {
      if (stats.has(pid)) continue;
      lost.add(pid);
      queue.push(pid);
    }
    walk();
  }
  return { stats, fullScan: all !== undefined, seen, missed };
}

export interface PidMemory {
  pss_kb: number;
  rss_kb: number;
  /** False when PSS could not be read (the 0 is a gap, not a measurement). */
  pss: boolean;
}

/** `Rss:` of /proc/<pid>/smaps_rollup in kB: the pages VmRSS counts, walked exactly. */
export function parseSmapsRollupRss(text: string): number | undefined {
  return kbField(text, "Rss");
}

/**
 * PSS and RSS of one process in one read of smaps_rollup (kernel ≥ 4.14); RSS falls back to
 * `VmRSS` of status where smaps_rollup cannot be read. `pss: false` when the process has memory
 * (a VmRSS line) whose PSS could not be read: no access (smaps_rollup needs ptrace rights,
 * status does not) or an old kernel. Kernel threads and exiting processes have no memory.
 */
export function readPidMemory(proc: string, pid: number): PidMemory {
  const rollup = readText(`${proc}/${pid}/smaps_rollup`, true);
  if (rollup !== undefined && rollup !== "") {
    return {
      pss_kb: parseSmapsRollupPss(rollup) ?? 0,
      rss_kb: parseSmapsRollupRss(rollup) ?? 0,
      pss: true,
    };
  }
  const status = rollup === "" ? undefined : readText(`${proc}/${pid}/status`);
  const rss = status === undefined ? undefined : parseStatusRss(status);
  return { pss_kb: 0, rss_kb: rss ?? 0, pss: rss === undefined };
}

export function readPidIo(proc: string, pid: number): PidIo | undefined {
  const text = readText(`${proc}/${pid}/io`);
  return text === undefined ? undefined : parseIo(text);
}

/** Seconds since boot from /proc/uptime, in clock ticks (to compare with `starttime`). */
export function readUptimeTicks(proc: string, tps: number): number | undefined {
  const text = readText(`${proc}/uptime`);
  const secs = text === undefined ? NaN : Number(text.split(" ")[0]);
  return Number.isFinite(secs) ? Math.floor(secs * tps) : undefined;
}
