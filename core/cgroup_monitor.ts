/**
 * Follows the cgroup of the tracked process (or of the tracker when system-wide) from sample to
 * sample and produces each sample's `cgroup` object. A process that moves (launchers place a job
 * in its cgroup right after it starts) is followed at the next sample; every cgroup the tree was
 * seen in is remembered, with its counters at first sight, and read once more at the end so that
 * an OOM kill between two samples still shows in the run summary.
 */
import {
  type CgroupDirs,
  type CgroupMount,
  parseCgroupMounts,
  parseProcCgroup,
  resolveCgroup,
} from "../collectors/cgroup_fs.ts";
import {
  type CgroupReading,
  type CgroupSample,
  deriveCgroupSample,
  pressureDir,
  readCgroupStats,
} from "../collectors/cgroup_stats.ts";
import { readText } from "../collectors/read.ts";
import type { CpuSample } from "../base/sample.ts";

/** Limits and the peak are re-read every this many samples (and when the cgroup changes). */
const LIMITS_EVERY = 10;
/**
 * The host's PSI files (/proc/pressure/*) cost several times a cgroup file to read and are the
 * same for every cgroup: read every this many samples; the stall time then covers the samples
 * since the last read, and the others have null stall fields. A cgroup's own PSI is read always.
 */
const HOST_PSI_EVERY = 10;
/** The tracked process's cgroup file is read every sample this long, then every FOLLOW_EVERY. */
const FOLLOW_EVERY_SAMPLE = 10;
const FOLLOW_EVERY = 3;
/** Cgroup files of new tree members read per sample at most (a fork storm stays cheap). */
const NEW_PIDS_PER_SAMPLE = 32;
/** At most this many cgroups are remembered for the end-of-run read (PIDs of a huge tree). */
const MAX_SEEN = 64;

/** One cgroup the job was seen in, with its counters then and at the last read. */
export interface SeenCgroup {
  dirs: CgroupDirs;
  psi: { dir: string; host: boolean };
  first: CgroupReading;
  last: CgroupReading;
}

export interface CgroupMonitorOptions {
  proc: string;
  sys: string;
  /** The process to follow; "self" when system-wide. */
  pid: number | "self";
  /** Job cgroup mode: this cgroup, not followed; its CPU usage and I/O are read too. */
  job?: CgroupDirs;
}

export class CgroupMonitor {
  readonly #o: CgroupMonitorOptions;
  readonly #mounts: CgroupMount[];
  /** The followed cgroup: key, its directories and the last full reading. */
  #key: string | undefined;
  #current: SeenCgroup | undefined;
  #prev: CgroupReading | undefined;
  #limits: CgroupReading = {};
  #n = 0;
  /** Samples taken (not reset when the cgroup changes). */
  #samples = 0;
  #lastText: string | undefined;
  /** Job mode: the reading of the last emitted sample (counters of a new cgroup start at 0). */
  #jobBase: CgroupReading = {};
  #jobCurr: CgroupReading | undefined;
  readonly #seen = new Map<string, SeenCgroup>();
  readonly #pidsChecked = new Set<number>();

  constructor(o: CgroupMonitorOptions) {
    this.#o = o;
    this.#mounts = parseCgroupMounts(readText(`${o.proc}/self/mountinfo`) ?? "");
    if (o.job) {
      this.#switchTo(keyOf(o.job), o.job);
      // A new cgroup's counters started at 0 when it was made, before the command started.
      const s = this.#current!;
      s.first = countersFromZero(s.first, s.psi.host);
    }
  }

  /** The cgroup of `pid` now, or undefined when its cgroup file cannot be read. */
  #resolve(
    pid: number | "self",
    text = readText(`${this.#o.proc}/${pid}/cgroup`),
  ): { key: string; dirs: CgroupDirs } | undefined {
    if (text === undefined || text.trim() === "") return undefined;
    const dirs = resolveCgroup(parseProcCgroup(text), this.#mounts, this.#o.sys);
    if (dirs.unified === undefined && dirs.memory === undefined && dirs.cpu === undefined) {
      return undefined;
    }
    return { key: keyOf(dirs), dirs };
  }

  #remember(key: string, dirs: CgroupDirs): SeenCgroup {
    let s = this.#seen.get(key);
    if (!s) {
      const psi = pressureDir(dirs, this.#o.proc);
      const first = readCgroupStats(dirs, psi, { limits: true, usage: this.#o.job !== undefined });
      s = { dirs, psi, first, last: first };
      if (this.#seen.size < MAX_SEEN) this.#seen.set(key, s);
    }
    return s;
  }

  #switchTo(key: string, dirs: CgroupDirs): void {
    this.#key = key;
    this.#current = this.#remember(key, dirs);
    this.#prev = undefined;
    this.#n = 0;
  }

  /** Follows the process, notes the cgroups of new tree members, reads the followed cgroup. */
  sample(tree: ReadonlySet<number> | null): CgroupSample | null {
    // The tracker does not move itself: its own cgroup is checked with the limits only. A
    // launcher moves a job right after it starts: every sample at first, then every few.
    const self = this.#o.pid === "self", k = this.#samples;
    const follow = !this.#current ||
      (self ? this.#n % LIMITS_EVERY === 0 : k < FOLLOW_EVERY_SAMPLE || k % FOLLOW_EVERY === 0);
    this.#samples++;
    if (!this.#o.job && follow) {
      const text = readText(`${this.#o.proc}/${this.#o.pid}/cgroup`);
      // The root exited: keep reading the cgroup it was last in.
      if (text !== undefined && text !== this.#lastText) {
        this.#lastText = text;
        const r = this.#resolve(this.#o.pid, text);
        if (r && r.key !== this.#key) this.#switchTo(r.key, r.dirs);
      }
      if (tree) this.#noteTree(tree);
    }
    const cur = this.#current;
    if (!cur) return null;
    const n = this.#n++;
    const limits = n % LIMITS_EVERY === 0;
    const psi = !cur.psi.host || n % HOST_PSI_EVERY === 0;
    const throttling = limits || this.#limits.cpu_limit?.quota_us != null;
    const r = readCgroupStats(cur.dirs, cur.psi, {
      limits,
      usage: this.#o.job !== undefined,
      psi,
      throttling,
    });
    if (!throttling) {
      // No quota, no throttling: the counters stand as last read.
      r.nr_periods = this.#limits.nr_periods;
      r.nr_throttled = this.#limits.nr_throttled;
      r.throttled_us = this.#limits.throttled_us;
    }
    if (!psi && this.#prev) {
      r.psi_cpu = this.#prev.psi_cpu;
      r.psi_memory = this.#prev.psi_memory;
      r.psi_io = this.#prev.psi_io;
      r.psi_carried = true;
    }
    if (limits) this.#limits = r;
    // v1 memory.failcnt is read with the limits: between two reads it stays as last read.
    else {
      if (r.limit_hits === undefined) r.limit_hits = this.#limits.limit_hits;
      r.pids_refused = this.#limits.pids_refused;
    }
    if (!limits && r.memory_current !== undefined && this.#limits.memory_peak !== undefined) {
      // The peak is a high-water mark: what is in use now raises it between re-reads.
      this.#limits.memory_peak = Math.max(this.#limits.memory_peak, r.memory_current);
    }
    const out = deriveCgroupSample(cur.dirs, cur.psi.host, this.#prev, r, this.#limits);
    this.#jobCurr = r;
    this.#prev = r;
    cur.last = r;
    return out;
  }

  /** True in job cgroup mode. */
  get job(): boolean {
    return this.#o.job !== undefined;
  }

  /**
   * Job cgroup mode: the interval's `process_*` CPU and I/O from the cgroup's own counters,
   * which count every process that ran in it, however short-lived or daemonised.
   */
  fillProcess(
    cpu: CpuSample,
    ctx: { elapsedSecs: number; capCores: number; baseline: boolean },
  ): void {
    const c = this.#jobCurr;
    if (!c) return;
    // The job's cgroup is new: its counters start at 0, so the first emitted sample counts
    // from its creation and the samples add up to the cgroup's totals. The baseline sample
    // (not emitted) leaves the base where it is.
    const p = this.#jobBase;
    const d = (a: number | undefined, b: number | undefined) =>
      ctx.baseline || b === undefined ? 0 : Math.max(0, b - (a ?? 0));
    if (c.usage_us !== undefined) {
      const usage = d(p.usage_us, c.usage_us) / 1e6;
      let user = d(p.user_us, c.user_us) / 1e6, system = d(p.system_us, c.system_us) / 1e6;
      // The user/system split is sampled by the kernel; the total is exact: scale to it.
      const split = user + system;
      if (split > 0) {
        user = (usage * user) / split;
        // Rounding may leave -1e-18 when system is 0: an amount is never negative.
        system = Math.max(0, usage - user);
      } else {
        user = usage;
        system = 0;
      }
      cpu.process_utime_secs = user;
      cpu.process_stime_secs = system;
      const elapsed = Math.max(0.001, ctx.elapsedSecs);
      cpu.process_cores_used = ctx.baseline ? 0 : Math.min(usage / elapsed, ctx.capCores);
    }
    if (c.io !== undefined) {
      cpu.process_disk_read_bytes = d(p.io?.read, c.io.read);
      cpu.process_disk_write_bytes = d(p.io?.write, c.io.write);
    }
    if (!ctx.baseline) this.#jobBase = c;
  }

  /** New members of the tree: which cgroup are they in? (Read once per PID.) */
  #noteTree(tree: ReadonlySet<number>): void {
    if (this.#seen.size >= MAX_SEEN) return;
    let budget = NEW_PIDS_PER_SAMPLE;
    for (const pid of tree) {
      if (this.#pidsChecked.has(pid)) continue;
      if (budget-- === 0) break; // the rest at the next samples, if they still run
      this.#pidsChecked.add(pid);
      const r = this.#resolve(pid);
      if (r) this.#remember(r.key, r.dirs);
    }
    if (this.#pidsChecked.size > 4 * tree.size + 1024) {
      for (const pid of this.#pidsChecked) if (!tree.has(pid)) this.#pidsChecked.delete(pid);
    }
  }

  /** The cgroup followed now (job mode: the job's). */
  get current(): SeenCgroup | undefined {
    return this.#current;
  }

  /** Reads every cgroup the job was seen in once more; returns them, the followed one first. */
  finish(): SeenCgroup[] {
    const out: SeenCgroup[] = [];
    for (const [key, s] of this.#seen) {
      s.last = readCgroupStats(s.dirs, s.psi, { limits: true, usage: this.#o.job !== undefined });
      if (key === this.#key) out.unshift(s);
      else out.push(s);
    }
    return out;
  }
}

/** A reading of a cgroup just created: every counter 0 (the host's PSI is not the cgroup's). */
function countersFromZero(r: CgroupReading, hostPsi: boolean): CgroupReading {
  const zero = { some_us: 0, full_us: 0 };
  return {
    ...r,
    limit_hits: 0,
    high_events: 0,
    pids_refused: 0,
    oom: 0,
    oom_kill: 0,
    nr_periods: 0,
    nr_throttled: 0,
    throttled_us: 0,
    usage_us: 0,
    user_us: 0,
    system_us: 0,
    io: { read: 0, write: 0 },
    ...(hostPsi ? {} : { psi_cpu: zero, psi_memory: zero, psi_io: zero }),
  };
}

function keyOf(d: CgroupDirs): string {
  return [d.unified, d.memory, d.cpu, d.cpuacct, d.pids, d.blkio].join("|");
}
