/**
 * Per-interval amounts of a process tree from per-PID cumulative counters (CONTRACT §3.7, with
 * the corrections in the README). Pure: tested on plain values.
 *
 * Each counter (CPU ticks u = utime+cutime, s = stime+cstime; I/O bytes) grows for a process
 * while it runs and jumps by a child's whole lifetime when the parent reaps that child. So:
 * - a PID seen before contributes its growth (curr − prev, never negative);
 * - a PID that started during the interval contributes all of its counter (it all happened in
 *   this interval) — a PID that merely appeared in the scan but is older contributes 0;
 * - a PID that vanished since the previous scan and whose parent is in the tree was reaped by
 *   that parent: the parent's jump includes the part we already counted, so we subtract it
 *   (the "exit correction"), unless that would exceed the raw sum (then the vanishing is treated
 *   as a transient read failure);
 * - a vanished PID is carried forward once, so a transiently unreadable PID is not new next time.
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
  c: Counters;
  /** Set on entries carried forward from an earlier scan. */
  carried?: boolean;
}

export interface TreeDelta {
  delta: Counters;
  /** The snapshot to keep for the next interval (live PIDs + vanished ones carried once). */
  next: Map<number, PidEntry>;
}

const KEYS = ["u", "s", "read", "write"] as const;
const zero = (): Counters => ({ u: 0, s: 0, read: 0, write: 0 });

/**
 * @param prev snapshot of the previous scan (undefined for the baseline)
 * @param curr live scan now
 * @param sinceTicks boot-relative time of the previous scan in ticks: PIDs started after it are new
 */
export function treeDelta(
  prev: ReadonlyMap<number, PidEntry> | undefined,
  curr: ReadonlyMap<number, PidEntry>,
  sinceTicks: number | undefined,
): TreeDelta {
  const raw = zero();
  const exited = zero();
  if (prev) {
    for (const [pid, e] of curr) {
      const p = prev.get(pid);
      const same = p !== undefined && p.starttime === e.starttime;
      for (const k of KEYS) {
        if (same) raw[k] += Math.max(0, e.c[k] - p.c[k]);
        else if (sinceTicks !== undefined && e.starttime >= sinceTicks) raw[k] += e.c[k];
      }
    }
    for (const [pid, p] of prev) {
      if (p.carried || curr.has(pid)) continue;
      // Only a parent inside the tree folds the child's lifetime into the tree's counters.
      if (!curr.has(p.ppid)) continue;
      for (const k of KEYS) exited[k] += p.c[k];
    }
  }
  const delta = zero();
  for (const k of KEYS) delta[k] = exited[k] <= raw[k] ? raw[k] - exited[k] : raw[k];
  const next = new Map<number, PidEntry>(curr);
  if (prev) {
    for (const [pid, p] of prev) {
      if (!p.carried && !curr.has(pid)) next.set(pid, { ...p, carried: true });
    }
  }
  return { delta, next };
}
