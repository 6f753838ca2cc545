/**
 * Tracks one process tree for the sampler: scans it (timed part), then derives the
 * `cpu.process_*` fields with `treeDelta` and reads memory and I/O (CONTRACT §3.6–3.9).
 */
import {
  type PidIo,
  type PidMemory,
  type PidStat,
  readPidIo,
  readPidMemory,
  readUptimeTicks,
  scanTree,
  type TreeScan,
} from "../collectors/process.ts";
import { registerRoot } from "../collectors/read.ts";
import type { CpuSample } from "./sample.ts";
import type { ProcessContext, ProcessSource } from "./sampler.ts";
import { TICKS_PER_SEC } from "./sampler.ts";
import { type Counters, type PidEntry, treeDelta } from "./tree_delta.ts";

/** Cumulative totals of a tree: user / system CPU ticks, disk read / write bytes. */
export type TreeTotals = Counters;

/** Re-read memory and I/O of an idle process at least this often (samples). */
const IDLE_REFRESH = 10;

interface Memo {
  raw: string;
  mem: PidMemory;
  io: PidIo | undefined;
  age: number;
}

export class ProcessTracker implements ProcessSource {
  readonly pid: number;
  readonly #proc: string;
  readonly #extraRoots: () => readonly number[];
  #scan: Map<number, PidStat> = new Map();
  #lastScan: TreeScan | undefined;
  #scanTicks: number | undefined;
  #prev: Map<number, PidEntry> | undefined;
  #prevTicks: number | undefined;
  #final: TreeTotals | undefined;
  /** Last memory/I/O reads per PID, reused while its stat line is unchanged. */
  #memo = new Map<number, Memo>();
  /** What the emitted samples added up to, in ticks. */
  readonly reported: TreeTotals = { u: 0, s: 0, read: 0, write: 0 };

  /** The root's start time when its identity is checked (attach mode: PIDs get reused). */
  readonly #rootStart: number | undefined;

  /**
   * @param extraRoots more roots to follow, e.g. orphans the tracker adopted as subreaper
   * @param rootStart the root's start time: a process with the same PID but another start time
   *   is a new one, not ours, and its tree is not read
   */
  constructor(
    proc: string,
    pid: number,
    extraRoots: () => readonly number[] = () => [],
    rootStart?: number,
  ) {
    this.#proc = proc;
    this.pid = pid;
    this.#rootStart = rootStart;
    registerRoot(proc);
    this.#extraRoots = extraRoots;
  }

  /** What the live tree has accumulated now: CPU with cutime/cstime, and I/O. */
  liveTotals(): TreeTotals {
    const scan = scanTree(this.#proc, [this.pid, ...this.#extraRoots()]).stats;
    const t = { u: 0, s: 0, read: 0, write: 0 };
    for (const st of scan.values()) {
      t.u += st.utime + st.cutime;
      t.s += st.stime + st.cstime;
      const io = readPidIo(this.#proc, st.pid);
      t.read += io?.read_bytes ?? 0;
      t.write += io?.write_bytes ?? 0;
    }
    return t;
  }

  /**
   * Makes the next sample close the run exactly: its CPU and I/O are whatever bring the
   * reported totals to `totals` (the whole tree's, from kernel accounting). This also counts
   * what the root did in its last interval, which cannot be read once it has been reaped.
   */
  closeWith(totals: TreeTotals): void {
    this.#final = totals;
  }

  readTimed(): void {
    this.#scanTicks = readUptimeTicks(this.#proc, TICKS_PER_SEC);
    const scan = scanTree(this.#proc, [this.pid, ...this.#extraRoots()], this.#lastScan);
    const root = scan.stats.get(this.pid);
    if (this.#rootStart !== undefined && root && root.starttime !== this.#rootStart) {
      scan.stats.clear(); // the PID was reused: our process is gone
    }
    this.#lastScan = scan;
    this.#scan = scan.stats;
  }

  fill(cpu: CpuSample, ctx: ProcessContext): ReadonlySet<number> {
    const curr = new Map<number, PidEntry>();
    let pss = 0, rss = 0;
    const memo = new Map<number, Memo>();
    for (const [pid, st] of this.#scan) {
      const before = this.#prev?.get(pid);
      // A process whose stat line did not change did not run, fault pages or reap children:
      // its I/O and memory are as last read. PSS can still shift when a process it shares
      // pages with exits, hence the periodic refresh.
      let m = this.#memo.get(pid);
      if (m && m.raw === st.raw && m.age < IDLE_REFRESH) {
        m.age++;
      } else {
        m = {
          raw: st.raw,
          io: readPidIo(this.#proc, pid),
          mem: st.state === "Z" ? { pss_kb: 0, rss_kb: 0 } : readPidMemory(this.#proc, pid),
          age: 0,
        };
      }
      memo.set(pid, m);
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
    const { delta, next } = treeDelta(ctx.baseline ? undefined : this.#prev, curr, this.#prevTicks);
    this.#prev = next;
    this.#prevTicks = this.#scanTicks;
    let { u, s, read, write } = delta;
    if (this.#final) {
      const f = this.#final, r = this.reported;
      u = Math.max(0, f.u - r.u);
      s = Math.max(0, f.s - r.s);
      read = Math.max(0, f.read - r.read);
      write = Math.max(0, f.write - r.write);
      this.#final = undefined;
    }
    this.reported.u += u;
    this.reported.s += s;
    this.reported.read += read;
    this.reported.write += write;

    const elapsed = Math.max(0.001, ctx.elapsedSecs);
    const utime = u / TICKS_PER_SEC, stime = s / TICKS_PER_SEC;
    const rawCores = ctx.baseline ? 0 : Math.max(0, (utime + stime) / elapsed);
    const busyCap = ctx.sysBusySecs === undefined ? Infinity : ctx.sysBusySecs / elapsed;
    cpu.process_cores_used = Math.min(rawCores, busyCap, ctx.capCores);
    cpu.process_child_count = Math.max(0, this.#scan.size - 1);
    cpu.process_utime_secs = utime;
    cpu.process_stime_secs = stime;
    cpu.process_pss_mib = Math.floor(pss / 1024);
    cpu.process_rss_mib = Math.floor(rss / 1024);
    cpu.process_disk_read_bytes = read;
    cpu.process_disk_write_bytes = write;
    return new Set(this.#scan.keys());
  }
}
