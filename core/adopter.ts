/**
 * Wrapper mode, after the spawn: the command's orphans (re-parented to us as child subreaper or
 * PID 1, core/supervisor.ts `enableSubreaper`) are listed and reaped here. Loaded with the
 * sampler, off the start-up path.
 */
import { readChildren, readPidStat } from "../collectors/process.ts";
import { reapIfExited } from "../base/libc.ts";
import { SPAWNED } from "../base/spawned.ts";

/**
 * Orphans that re-parented to us (as child subreaper or PID 1): they stay part of the job's tree
 * and are reaped here so no zombie is left. Children Deno started itself are left to Deno.
 */
export class Adopter {
  readonly #proc: string;
  readonly #mainPid: number;
  readonly #self = Deno.pid;
  readonly subreaper: boolean;

  constructor(proc: string, mainPid: number, subreaper: boolean) {
    this.#proc = proc;
    this.#mainPid = mainPid;
    this.subreaper = subreaper;
  }

  /**
   * Our children that Deno did not start (adopted orphans), zombies included. The kernel
   * re-parents an orphan to the first live thread of the subreaper's (or init's) thread group
   * (`find_new_reaper` → `find_alive_thread`): our main thread, so only its `children` file is
   * read, not every thread's (that listing was a tenth of a sample's syscalls).
   */
  adopted(): number[] {
    if (!this.subreaper) return [];
    const kids = readChildren(this.#proc, this.#self, 1) ?? [];
    return kids.filter((pid) => pid !== this.#mainPid && !SPAWNED.has(pid));
  }

  /** Reaps adopted orphans that have exited. Returns how many were reaped. */
  reap(): number {
    let n = 0;
    for (const pid of this.adopted()) {
      if (readPidStat(this.#proc, pid)?.state === "Z" && reapIfExited(pid)) n++;
    }
    return n;
  }
}
