/**
 * Tracks one process tree for the sampler: scans it (timed part), then derives the
 * `cpu.process_*` fields by conservation (`account` in tree_delta.ts, where the rule is written)
 * and reads memory and I/O (docs/COMPATIBILITY.md §3.6–3.9).
 */
import {
  type PidIo,
  type PidMemory,
  type PidStat,
  readPidIo,
  readPidMemory,
  readPidStat,
  readUptimeTicks,
  scanTree,
  type TreeScan,
} from "../collectors/process.ts";
import { registerRoot } from "../collectors/read.ts";
import type { CpuSample } from "../base/sample.ts";
import type { ProcessContext, ProcessSource } from "./sampler.ts";
import { TICKS_PER_SEC } from "./sampler.ts";
import { account, baseline, type Counters, type Ledger, type PidEntry } from "./tree_delta.ts";

/** Cumulative totals of a tree: user / system CPU ticks, disk read / write bytes. */
export type TreeTotals = Counters;

/** Scans again at most this often when processes vanished during a scan. */
const SCAN_RETRIES = 2;

/** Re-read memory and I/O of an idle process at least this often (samples). */
const IDLE_REFRESH = 10;

interface Memo {
  raw: string;
  mem: PidMemory;
  io: PidIo | undefined;
  age: number;
}

export interface TrackerOptions {
  /** More roots to follow, e.g. orphans the tracker adopted as subreaper. */
  extraRoots?: () => readonly number[];
  /**
   * Wrapper mode: what the tracker has reaped since the spawn (its children's CPU ticks and block
   * I/O). Read before every scan; it makes the accounting exact (tree_delta.ts). Absent when
   * attached: the tree's reapers are then outside the tracker.
   */
  outside?: () => TreeTotals | undefined;
  /**
   * The root's start time when its identity is checked (attach mode: PIDs get reused): a
   * process with the same PID but another start time is a new one, not ours, and is not read.
   */
  rootStart?: number;
}

export class ProcessTracker implements ProcessSource {
  readonly pid: number;
  readonly #proc: string;
  readonly #o: TrackerOptions;
  #scan: Map<number, PidStat> = new Map();
  #lastScan: TreeScan | undefined;
  #scanTicks: number | undefined;
  #outside: TreeTotals | undefined;
  #ledger: Ledger | undefined;
  /** Last memory/I/O reads per PID, reused while its stat line is unchanged. */
  #memo = new Map<number, Memo>();

  constructor(proc: string, pid: number, o: TrackerOptions = {}) {
    this.#proc = proc;
    this.pid = pid;
    registerRoot(proc);
    this.#o = o;
  }

  /** What the emitted samples added up to, in ticks and bytes (the tree's run total). */
  get reported(): TreeTotals {
    return this.#ledger?.reported ?? { u: 0, s: 0, read: 0, write: 0 };
  }

  readTimed(): void {
    // Ticks before the scan: at the baseline, members started since are all the run's.
    this.#scanTicks = readUptimeTicks(this.#proc, TICKS_PER_SEC);
    const roots = [this.pid, ...(this.#o.extraRoots?.() ?? [])];
    // A process reaped during the scan is missed (never counted twice, see scanTree); scanning
    // again keeps the amount in its interval, and keeps the last sample of a run exact.
    for (let attempt = 0;; attempt++) {
      // What left the tree before the scan: one reaped in between is then missed, not doubled.
      this.#outside = this.#o.outside?.() ?? this.#outside;
      const scan = scanTree(this.#proc, roots, this.#lastScan, this.#lastScan?.stats);
      if (scan.missed === 0 || attempt === SCAN_RETRIES) {
        const root = scan.stats.get(this.pid);
        if (this.#o.rootStart !== undefined && root && root.starttime !== this.#o.rootStart) {
          scan.stats.clear(); // the PID was reused: our process is gone
        }
        this.#lastScan = scan;
        this.#scan = scan.stats;
        return;
      }
    }
  }

  fill(cpu: CpuSample, ctx: ProcessContext): ReadonlySet<number> {
    const curr = new Map<number, PidEntry>();
    let pss = 0, rss = 0, unreadable = 0;
    const memo = new Map<number, Memo>();
    const members = this.#ledger?.members;
    for (const [pid, st] of this.#scan) {
      const before = members?.get(pid);
      // A process whose stat line did not change did not run, fault pages or reap children:
      // its I/O and memory are as last read. PSS can still shift when a process it shares
      // pages with exits, hence the periodic refresh.
      let m = this.#memo.get(pid);
      const zombie = st.state === "Z";
      if (m && m.raw === st.raw && m.age < IDLE_REFRESH) {
        m.age++;
      } else {
        m = {
          raw: st.raw,
          io: readPidIo(this.#proc, pid),
          mem: zombie ? { pss_kb: 0, rss_kb: 0, pss: true } : readPidMemory(this.#proc, pid),
          age: 0,
        };
      }
      memo.set(pid, m);
      // A read that failed because the process is exiting is not a gap in access.
      if (!zombie && (!m.mem.pss || m.io === undefined) && stillThere(this.#proc, st)) {
        unreadable++;
      }
      const io = m.io ??
        (before?.starttime === st.starttime
          ? { read_bytes: before.c.read, write_bytes: before.c.write }
          : undefined);
      curr.set(pid, {
        ppid: st.ppid,
        starttime: st.starttime,
        c: {
          u: st.utime + st.cutime,
          s: st.stime + st.cstime,
          read: io?.read_bytes ?? 0,
          write: io?.write_bytes ?? 0,
        },
      });
      pss += m.mem.pss_kb;
      rss += m.mem.rss_kb;
    }
    this.#memo = memo;
    let delta: Counters = { u: 0, s: 0, read: 0, write: 0 };
    if (ctx.baseline || !this.#ledger) {
      this.#ledger = baseline(curr, this.#scanTicks, this.#outside);
    } else {
      const r = account(this.#ledger, curr, this.#outside);
      this.#ledger = r.ledger;
      delta = r.delta;
    }

    const elapsed = Math.max(0.001, ctx.elapsedSecs);
    const utime = delta.u / TICKS_PER_SEC, stime = delta.s / TICKS_PER_SEC;
    cpu.process_cores_used = ctx.baseline ? 0 : coresUsed(utime + stime, elapsed, ctx);
    cpu.process_child_count = Math.max(0, this.#scan.size - (this.#scan.has(this.pid) ? 1 : 0));
    cpu.process_utime_secs = utime;
    cpu.process_stime_secs = stime;
    cpu.process_pss_mib = fractionalMib(pss);
    cpu.process_rss_mib = fractionalMib(rss);
    cpu.process_disk_read_bytes = delta.read;
    cpu.process_disk_write_bytes = delta.write;
    cpu.process_unreadable_count = unreadable;
    return new Set(this.#scan.keys());
  }
}

/** The same process, alive and not yet a zombie (read only after a failed read). */
function stillThere(proc: string, st: PidStat): boolean {
  const now = readPidStat(proc, st.pid);
  return now !== undefined && now.starttime === st.starttime && now.state !== "Z" &&
    now.state !== "X";
}

/** kB → MiB with 4 decimals (the reference CSV's precision): 0.3 MiB must not read 0. */
function fractionalMib(kb: number): number {
  return Math.round(kb / 1024 * 1e4) / 1e4;
}

/**
 * Cores for an interval's CPU-seconds: never above what the host was busy plus its tick rounding
 * (one tick per CPU over the interval: /proc/stat and /proc/<pid>/stat truncate independently),
 * nor above the online cores or CFS quota. tests/invariants.ts checks this on every live sample.
 */
function coresUsed(cpuSecs: number, elapsed: number, ctx: ProcessContext): number {
  const raw = Math.max(0, cpuSecs / elapsed);
  const busy = ctx.hostBusyCores === undefined
    ? Infinity
    : ctx.hostBusyCores + ctx.onlineCores / TICKS_PER_SEC / ctx.roundingSecs;
  return Math.min(raw, busy, ctx.capCores);
}
