/**
 * Per-interval amounts of a process tree by conservation (docs/COMPATIBILITY.md §3.7 as amended in the README's
 * "Accuracy" section). Pure: tested on plain values and against a simulated kernel
 * (tests/tree_model_test.ts).
 *
 * THE RULE. For every process the kernel keeps T = own + reaped, per counter (user ticks
 * utime+cutime, system ticks stime+cstime, I/O bytes of /proc/<pid>/io, which also folds in
 * what was reaped). When a process is reaped its whole T moves into its reaper's T; nothing is
 * lost and nothing is counted twice. So what the tree has consumed since the start is
 *
 *     Q(t) = Σ T(P, t) over the tree's live members  +  A(t)  −  B(t)
 *
 * - A(t): what left the tree through reapers outside it. Wrapper mode: the tracker is the only
 *   such reaper (parent of the command, subreaper of its orphans), so A is exact: the tracker's
 *   own children totals (cutime/cstime, getrusage(RUSAGE_CHILDREN) block I/O) since the spawn,
 *   read *before* the tree scan. Attach mode: the reapers are invisible, so A adds the last seen
 *   T of each member that vanished and whose chain of last-known parents ends outside the tree
 *   (the root, an orphan re-parented to init); a member whose chain ends at a live member was
 *   reaped inside, where its T already is. What such a member ran after the last scan is not
 *   visible to an attached tracker (the gap the README states).
 * - B(t): history that is not the run's. Wrapper mode: 0 (every member started after the spawn).
 *   Attach mode: T at first sight of the members that started before the baseline scan (a
 *   process can only become a member by being born into the tree or by having been in it when
 *   the tracker attached: re-parenting goes to ancestors). B never shrinks: a member reaped
 *   inside carries its history into its reaper's T.
 *
 * Every per-interval figure is Q(t) − Q(previous), floored by what was already reported: the
 * reported cumulative total is max over the samples of Q. Q never exceeds the truth (members are
 * read parents first, A before the scan, ticks and 512-byte blocks truncate), so a transient
 * undercount (a member unreadable for one scan, a child reaped or an orphan re-parented mid-scan)
 * only delays an amount to the next interval and the run total is exact in wrapper mode. A
 * vanished member is remembered for VANISHED_SCANS scans, so one that was only unreadable is
 * not counted in A and in its own T when it reappears. PID reuse cannot confuse the rule:
 * Q sums what is live; identity (pid + start time) only decides first sight and vanishing.
 */

export interface Counters {
  u: number;
  s: number;
  read: number;
  write: number;
}

export interface PidEntry {
  ppid: number;
  starttime: number;
  /** T: the process's own counters plus everything it has reaped. */
  c: Counters;
}

/** What the accounting keeps between samples. */
export interface Ledger {
  /** True when A is measured (wrapper mode), false when estimated (attach mode). */
  readonly exact: boolean;
  /** Boot-relative ticks read before the baseline scan: members started since are all ours. */
  readonly since: number | undefined;
  /** Members at the last scan. */
  members: ReadonlyMap<number, PidEntry>;
  /** Members that vanished in the last scans, in case they were only unreadable. */
  vanished: ReadonlyMap<number, Vanished>;
  /** A (attach mode; in wrapper mode the caller's measured value is used). */
  left: Counters;
  /** B. */
  base: Counters;
  /** Σ of the per-interval amounts handed out so far (the running maximum of Q). */
  reported: Counters;
}

export interface Vanished {
  e: PidEntry;
  /** Counted in A: its chain of parents left the tree. */
  outside: boolean;
  /** Scans since it vanished. */
  age: number;
}

/** Scans a vanished member is remembered. */
const VANISHED_SCANS = 5;

export interface Accounted {
  delta: Counters;
  ledger: Ledger;
}

export const KEYS = ["u", "s", "read", "write"] as const;
export const zero = (): Counters => ({ u: 0, s: 0, read: 0, write: 0 });

function add(to: Counters, c: Counters, sign = 1): void {
  for (const k of KEYS) to[k] += sign * c[k];
}

/**
 * The first scan. Reports nothing; in attach mode the members' history becomes B.
 * @param since boot-relative ticks read just before this scan
 * @param outside wrapper mode: the tracker's reaped totals since the spawn; undefined when attached
 */
export function baseline(
  scan: ReadonlyMap<number, PidEntry>,
  since: number | undefined,
  outside?: Counters,
): Ledger {
  const base = zero();
  if (!outside) { for (const e of scan.values()) add(base, e.c); }
  return {
    exact: outside !== undefined,
    since,
    members: scan,
    vanished: new Map(),
    left: zero(),
    base,
    reported: zero(),
  };
}

/**
 * One interval.
 * @param scan the live tree now, read parents before children
 * @param outside wrapper mode: the tracker's reaped totals since the spawn, read before `scan`
 */
export function account(
  prev: Ledger,
  scan: ReadonlyMap<number, PidEntry>,
  outside?: Counters,
): Accounted {
  const base = { ...prev.base };
  const left = { ...prev.left };
  const q = zero();
  for (const [pid, e] of scan) {
    add(q, e.c);
    const was = prev.members.get(pid) ?? prev.vanished.get(pid)?.e;
    if (was?.starttime === e.starttime) {
      const back = prev.vanished.get(pid);
      if (back?.outside && !prev.members.has(pid)) add(left, back.e.c, -1); // it was unreadable
      continue;
    }
    // First sight. Wrapper mode: every member started after the spawn, all of T is the run's.
    // Attached: one that predates the attach brings history that is not ours.
    if (!prev.exact && (prev.since === undefined || e.starttime < prev.since)) add(base, e.c);
  }

  const vanished = new Map<number, Vanished>();
  if (!prev.exact) {
    for (const [pid, v] of prev.vanished) {
      const now = scan.get(pid);
      if (v.age + 1 < VANISHED_SCANS && now?.starttime !== v.e.starttime && !scan.has(pid)) {
        vanished.set(pid, { ...v, age: v.age + 1 });
      }
    }
    const alive = (pid: number) => {
      const e = scan.get(pid);
      return e !== undefined && e.starttime === prev.members.get(pid)?.starttime;
    };
    for (const [pid, e] of prev.members) {
      if (alive(pid)) continue;
      // Follow the last-known parents: a live member reaped it (or reaped the member that
      // reaped it), or the chain leaves the tree and so did its T.
      let p = e.ppid, hops = 0, outside = true;
      while (prev.members.has(p) && hops++ < prev.members.size) {
        if (alive(p)) {
          outside = false;
          break;
        }
        p = prev.members.get(p)!.ppid;
      }
      if (outside) add(left, e.c);
      vanished.set(pid, { e, outside, age: 0 });
    }
  }

  add(q, outside ?? left);
  add(q, base, -1);
  const delta = zero();
  const reported = { ...prev.reported };
  for (const k of KEYS) {
    delta[k] = Math.max(0, q[k] - reported[k]);
    reported[k] += delta[k];
  }
  return {
    delta,
    ledger: { ...prev, members: scan, vanished, left, base, reported },
  };
}
