/**
 * `--cgroup`: the wrapped command runs in a cgroup of its own, created under the tracker's
 * cgroup (so the limits above still apply) and removed at the end. Its counters give exact job
 * totals: every process that ran in it counts, however short-lived or daemonised.
 *
 * How the command starts inside before it runs any code, without a shell shim: the tracker
 * moves its spawning thread into the new cgroup, spawns (the child inherits the cgroup at
 * fork), and moves the thread back. On v1 only that thread moves (`tasks`); on v2 a process
 * moves whole (`cgroup.procs`), for the moment of the spawn. The tracker's own work stays
 * outside the job's cgroup, and nothing depends on /bin/sh or another binary being there.
 */
import {
  type CgroupDirs,
  parseCgroupMounts,
  parseProcCgroup,
  resolveCgroup,
} from "../collectors/cgroup_fs.ts";
import { spawnCommand } from "./supervisor.ts";
import { sleep } from "../base/time.ts";

export interface JobCgroupOptions {
  /** Limit in bytes (`--memory-max`). */
  memoryMax?: number | undefined;
  /** Limit in cores (`--cpu-max`). */
  cpuMax?: number | undefined;
  /** Where the tracker's own cgroup files are found (its namespace: normally /proc, /sys). */
  proc?: string;
  sys?: string;
  /**
   * On a hybrid host (v1 controllers and a v2 `unified` mount), use the v2 hierarchy: only CPU
   * usage and PSI there, but per job. Tests use it to reach the v2 path on a v1 host.
   */
  preferV2?: boolean;
}

/** The CFS period used for `--cpu-max` (the kernel's default). */
const PERIOD_US = 100_000;
/**
 * Entered in this order and left in reverse: the CPU-accounting hierarchies last in and first
 * out, so the kernel's work of moving the thread is not charged to the job.
 */
const V1_CONTROLLERS = ["memory", "pids", "blkio", "cpu", "cpuacct"] as const;
type V1Controller = typeof V1_CONTROLLERS[number];

function write(path: string, text: string): void {
  // cgroupfs files exist already: never create one, never follow a link we did not make.
  Deno.writeTextFileSync(path, text, { create: false });
}

function errText(err: unknown): string {
  if (err instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (err instanceof Deno.errors.NotFound) return "not found";
  return err instanceof Error ? err.message.replace(/\s*\(os error.*$/, "") : String(err);
}

export class JobCgroup {
  readonly dirs: CgroupDirs;
  /** v1: controller → [the tracker's directory, the job's directory]; v2: one pair. */
  /** The tracker's directory and the job's, per hierarchy, in the order they are entered. */
  readonly #pairs: [own: string, job: string][];
  /** Directories on the v2 hierarchy: a process moves there whole (`cgroup.procs`). */
  readonly #v2: Set<string>;

  private constructor(
    dirs: CgroupDirs,
    pairs: [string, string][],
    v2: boolean,
    hybridV2: [string, string][] = [],
  ) {
    this.dirs = dirs;
    // The v2 directory of a hybrid host first: entered before and left after the CPU ones.
    this.#pairs = [...hybridV2, ...pairs];
    this.#v2 = new Set([...hybridV2, ...(v2 ? pairs : [])].map(([, job]) => job));
  }

  /** Creates the job's cgroup, or returns why it cannot (one line). */
  static create(o: JobCgroupOptions = {}): JobCgroup | string {
    const proc = o.proc ?? "/proc", sys = o.sys ?? "/sys";
    let own: CgroupDirs;
    try {
      own = resolveCgroup(
        parseProcCgroup(Deno.readTextFileSync(`${proc}/self/cgroup`)),
        parseCgroupMounts(Deno.readTextFileSync(`${proc}/self/mountinfo`)),
        sys,
      );
    } catch (err) {
      return `cannot read the tracker's own cgroup (${errText(err)})`;
    }
    const name = `resource-tracker-${Deno.pid}-${Date.now().toString(36)}`;
    const made: string[] = [];
    /** The directory being made or written when something fails: named in the message. */
    let at = "";
    const undo = () => made.reverse().forEach((d) => rmdirQuiet(d));
    try {
      if (own.version === 1 && !(o.preferV2 && own.unified !== undefined)) {
        const pairs: [string, string][] = [];
        const dirs: CgroupDirs = { version: 1, path: "" };
        const v2: [string, string][] = [];
        if (own.unified !== undefined) {
          // Hybrid host: a v2 cgroup too, for the job's own PSI (no controllers needed).
          try {
            const dir = `${own.unified}/${name}`;
            Deno.mkdirSync(dir);
            made.push(dir);
            v2.push([own.unified, dir]);
            dirs.unified = dir;
            dirs.unifiedPath = `${own.unifiedPath === "/" ? "" : own.unifiedPath ?? ""}/${name}`;
          } catch { /* PSI stays the host's */ }
        }
        for (const c of V1_CONTROLLERS) {
          const base = own[c];
          if (base === undefined) continue;
          // Some kernels account no block I/O in v1 blkio at all (virtio disks here): then the
          // tree's I/O counters stay in use rather than a cgroup that always reads 0.
          if (c === "blkio" && !accountsIo(base)) continue;
          const dir = `${base}/${name}`;
          // cpu and cpuacct are often one hierarchy (`cpu,cpuacct`): one directory for both.
          if (!made.includes(dir)) {
            at = base;
            Deno.mkdirSync(dir);
            made.push(dir);
            pairs.push([base, dir]);
          }
          dirs[c as V1Controller] = dir;
        }
        if (dirs.memory === undefined && dirs.cpuacct === undefined) {
          undo();
          return "no memory or cpuacct cgroup controller is mounted";
        }
        const ownPath = own.path === "/" ? "" : own.path;
        dirs.path = `${ownPath}/${name}`;
        if (o.memoryMax !== undefined) {
          if (!dirs.memory) throw new Error("--memory-max: no memory controller");
          write(`${dirs.memory}/memory.limit_in_bytes`, String(o.memoryMax));
        }
        if (o.cpuMax !== undefined) {
          if (!dirs.cpu) throw new Error("--cpu-max: no cpu controller");
          write(`${dirs.cpu}/cpu.cfs_period_us`, String(PERIOD_US));
          write(`${dirs.cpu}/cpu.cfs_quota_us`, String(Math.round(o.cpuMax * PERIOD_US)));
        }
        return new JobCgroup(dirs, pairs, false, v2);
      }
      if (own.unified === undefined) return "no cgroup v2 hierarchy is mounted";
      const dir = `${own.unified}/${name}`;
      at = own.unified;
      Deno.mkdirSync(dir);
      made.push(dir);
      // Controllers must be enabled in the parent; a parent that itself holds processes
      // refuses ("no internal processes"), and then only CPU usage and PSI are counted.
      for (const c of ["cpu", "memory", "io", "pids"]) {
        try {
          write(`${own.unified}/cgroup.subtree_control`, `+${c}`);
        } catch { /* not delegated or not available */ }
      }
      const limit = (flag: string, file: string, value: string) => {
        try {
          write(`${dir}/${file}`, value);
        } catch (err) {
          if (!(err instanceof Deno.errors.NotFound)) throw err;
          // No such file: the controller is not enabled for the children of our cgroup (a
          // cgroup that holds processes, like ours, may not hand controllers down).
          throw new Error(
            `${flag}: the ${file.split(".")[0]} controller is not available under ${own.unified}`,
          );
        }
      };
      if (o.memoryMax !== undefined) limit("--memory-max", "memory.max", String(o.memoryMax));
      if (o.cpuMax !== undefined) {
        limit("--cpu-max", "cpu.max", `${Math.round(o.cpuMax * PERIOD_US)} ${PERIOD_US}`);
      }
      const path = `${own.unifiedPath === "/" ? "" : own.unifiedPath ?? ""}/${name}`;
      return new JobCgroup(
        { version: 2, path, unified: dir, unifiedPath: path },
        [[own.unified, dir]],
        true,
      );
    } catch (err) {
      undo();
      const hint = err instanceof Deno.errors.PermissionDenied
        ? " (needs root, or a delegated cgroup v2 subtree)"
        : "";
      return made.length > 0 || at === ""
        ? `cannot set up the job's cgroup: ${errText(err)}`
        : `cannot create a cgroup under ${at}: ${errText(err)}${hint}`;
    }
  }

  /** Directories the tracker has entered (and must leave). */
  #entered: string[] = [];
  #tid = String(Deno.pid);

  /**
   * Moves the spawning thread (v1) or the tracker (v2) into the job's cgroup, so that a child
   * spawned now is born there. `leave` must follow right after the spawn.
   */
  enter(): void {
    // Deno spawns from the thread that runs JavaScript: not always the main thread (`deno
    // test` runs it on another), so on v1 the thread moved is the one running this code.
    this.#tid = currentTid();
    try {
      for (const [, job] of this.#pairs) {
        write(this.#procsFile(job), this.#v2.has(job) ? String(Deno.pid) : this.#tid);
        this.#entered.push(job);
      }
    } catch (err) {
      this.leave();
      throw err;
    }
  }

  #procsFile(job: string): string {
    return `${job}/${this.#v2.has(job) ? "cgroup.procs" : "tasks"}`;
  }

  /** Moves back to the tracker's own cgroups, CPU accounting first. */
  leave(): void {
    for (const [own, job] of [...this.#pairs].reverse()) {
      if (!this.#entered.includes(job)) continue;
      try {
        const file = this.#v2.has(job) ? "cgroup.procs" : "tasks";
        write(`${own}/${file}`, this.#v2.has(job) ? String(Deno.pid) : this.#tid);
      } catch { /* our own cgroup: cannot fail unless it was removed */ }
    }
    this.#entered = [];
  }

  /** PIDs still in the job's cgroup. */
  pids(): number[] {
    const out = new Set<number>();
    for (const [, job] of this.#pairs) {
      try {
        for (const l of Deno.readTextFileSync(`${job}/cgroup.procs`).split("\n")) {
          if (l) out.add(Number(l));
        }
      } catch { /* removed */ }
    }
    return [...out];
  }

  /**
   * Removes the cgroup. Processes still in it (daemons left behind without
   * `--wait-descendants`) keep running, moved back to the tracker's cgroup. Returns how many.
   */
  async remove(): Promise<number> {
    const left = this.pids();
    for (const pid of left) {
      for (const [own] of this.#pairs) {
        try {
          write(`${own}/cgroup.procs`, String(pid));
        } catch { /* exited meanwhile */ }
      }
    }
    for (const [, job] of [...this.#pairs].reverse()) {
      // A process that just exited can hold the cgroup for a moment.
      for (let i = 0; i < 20 && !rmdirQuiet(job); i++) {
        await sleep(25);
      }
    }
    return left.length;
  }
}

/** True when the v1 blkio cgroup at `dir` lists I/O of at least one device. */
function accountsIo(dir: string): boolean {
  try {
    const text = Deno.readTextFileSync(`${dir}/blkio.throttle.io_service_bytes_recursive`);
    return /^\d+:\d+ /m.test(text);
  } catch {
    return false;
  }
}

/** The calling thread's id, from /proc/thread-self (`<pid>/task/<tid>`); the PID without it. */
function currentTid(): string {
  try {
    return Deno.readLinkSync("/proc/thread-self").split("/").pop() || String(Deno.pid);
  } catch {
    return String(Deno.pid);
  }
}

function rmdirQuiet(dir: string): boolean {
  try {
    Deno.removeSync(dir);
    return true;
  } catch (err) {
    return err instanceof Deno.errors.NotFound;
  }
}

/**
 * Spawns inside the job's cgroup. When the tracker may not enter it, the command starts outside
 * and `refused` says why: the caller says so, removes the cgroup and goes on in tree mode.
 */
export function spawnInJob(
  job: JobCgroup,
  argv: readonly string[],
): { child: Deno.ChildProcess; refused?: unknown } {
  let refused: unknown;
  try {
    const child = spawnCommand(argv, () => {
      try {
        job.enter();
      } catch (err) {
        refused = err;
      }
    });
    return refused === undefined ? { child } : { child, refused };
  } finally {
    job.leave();
  }
}
