/**
 * Why the job struggled: the run summary's `cgroup` part. Counters (OOM kills, limit hits,
 * throttling, PSI stall time) are the difference between the first and the final read of every
 * cgroup the job was seen in, so events between two samples count; peaks come from the samples
 * and the kernel's own high-water marks. Lines are printed only when something happened.
 */
import type { CgroupReading } from "../collectors/cgroup_stats.ts";
import type { SeenCgroup } from "./cgroup_monitor.ts";
import type { Sample } from "../base/sample.ts";
import { type CgroupRunSummary, formatBytes, type JobCgroupTotals } from "../report/summary.ts";

export type { CgroupRunSummary, JobCgroupTotals } from "../report/summary.ts";

/** Tree and cgroup CPU totals further apart than this (percent) are reported as a warning. */
const CROSS_CHECK_PCT = 2;
/** …and further apart than this (s): the tree counts in 10 ms ticks, so tiny jobs differ by ticks. */
const CROSS_CHECK_MIN_SECS = 0.02;

type Counter = keyof CgroupReading;

/** Σ over cgroups of (last − first); null when no cgroup has the counter. */
function grew(seen: SeenCgroup[], key: Counter, scale = 1): number | null {
  let total: number | null = null;
  for (const s of seen) {
    const a = s.first[key], b = s.last[key];
    if (typeof a !== "number" || typeof b !== "number") continue;
    total = (total ?? 0) + Math.max(0, b - a) / scale;
  }
  return total;
}

/** PSI: once per distinct source (several cgroups may all fall back to the host's). */
function stalled(
  seen: SeenCgroup[],
  key: "psi_cpu" | "psi_memory" | "psi_io",
  which: "some_us" | "full_us",
): number | null {
  const done = new Set<string>();
  let total: number | null = null;
  for (const s of seen) {
    if (done.has(s.psi.dir)) continue;
    done.add(s.psi.dir);
    const a = s.first[key]?.[which], b = s.last[key]?.[which];
    if (typeof a !== "number" || typeof b !== "number") continue;
    total = (total ?? 0) + Math.max(0, b - a) / 1e6;
  }
  return total;
}

export class CgroupForensics {
  #memPeak: number | null = null;
  #pidsPeak: number | null = null;

  add(s: Sample): void {
    const c = s.cgroup;
    if (!c) return;
    if (c.memory_current_bytes !== null) {
      this.#memPeak = Math.max(this.#memPeak ?? 0, c.memory_current_bytes);
    }
    if (c.pids_current !== null) this.#pidsPeak = Math.max(this.#pidsPeak ?? 0, c.pids_current);
  }

  build(
    seen: SeenCgroup[],
    o: { job: boolean; treeCpuSecs?: number },
  ): CgroupRunSummary | null {
    const main = seen[0];
    if (!main) return null;
    const last = main.last, first = main.first;
    // The kernel's high-water mark counts only when it rose during the run (else it is older).
    let peak = this.#memPeak;
    for (const s of seen) {
      const a = s.first.memory_peak, b = s.last.memory_peak;
      if (typeof b === "number" && (o.job || (typeof a === "number" && b > a))) {
        peak = Math.max(peak ?? 0, b);
      }
    }
    if (typeof last.memory_current === "number") {
      peak = Math.max(peak ?? 0, last.memory_current);
    }
    let pidsPeak = this.#pidsPeak;
    if (typeof last.pids_peak === "number" && (o.job || last.pids_peak > (first.pids_peak ?? 0))) {
      pidsPeak = Math.max(pidsPeak ?? 0, last.pids_peak);
    }
    const limit = last.memory_limit ?? null;
    const periods = grew(seen, "nr_periods"), throttled = grew(seen, "nr_throttled");
    const cl = last.cpu_limit;
    const job = o.job ? jobTotals(main, peak, pidsPeak) : null;
    let cross: CgroupRunSummary["cross_check"] = null;
    if (job && job.cpu_total_secs !== null && o.treeCpuSecs !== undefined) {
      const c = job.cpu_total_secs, t = o.treeCpuSecs;
      const diff = c > 0 ? ((t - c) / c) * 100 : (t > 0 ? 100 : 0);
      cross = {
        tree_cpu_secs: t,
        cgroup_cpu_secs: c,
        difference_pct: diff,
        warning: Math.abs(diff) > CROSS_CHECK_PCT && Math.abs(t - c) > CROSS_CHECK_MIN_SECS,
      };
    }
    return {
      version: main.dirs.version,
      path: main.dirs.path,
      cgroups_seen: seen.map((s) => s.dirs.path),
      oom_kills: grew(seen, "oom_kill"),
      oom_events: grew(seen, "oom"),
      memory_limit_hits: grew(seen, "limit_hits"),
      memory_high_events: grew(seen, "high_events"),
      memory_limit_bytes: limit,
      memory_high_bytes: last.memory_high ?? null,
      memory_peak_bytes: peak,
      memory_peak_pct_of_limit: limit && peak !== null ? (peak / limit) * 100 : null,
      cpu_quota_cores: cl?.quota_us != null ? cl.quota_us / cl.period_us : null,
      cpu_periods: periods,
      cpu_throttled_periods: throttled,
      cpu_throttled_pct_of_periods: periods && throttled !== null
        ? (throttled / periods) * 100
        : null,
      throttled_secs: grew(seen, "throttled_us", 1e6),
      pids_peak: pidsPeak,
      pids_limit: last.pids_limit ?? null,
      pids_limit_hits: grew(seen, "pids_refused"),
      pressure_source: last.psi_cpu || last.psi_memory || last.psi_io
        ? (main.psi.host ? "host" : "cgroup")
        : null,
      cpu_some_stall_secs: stalled(seen, "psi_cpu", "some_us"),
      cpu_full_stall_secs: stalled(seen, "psi_cpu", "full_us"),
      memory_some_stall_secs: stalled(seen, "psi_memory", "some_us"),
      memory_full_stall_secs: stalled(seen, "psi_memory", "full_us"),
      io_some_stall_secs: stalled(seen, "psi_io", "some_us"),
      io_full_stall_secs: stalled(seen, "psi_io", "full_us"),
      job,
      cross_check: cross,
    };
  }
}

function jobTotals(s: SeenCgroup, peak: number | null, pidsPeak: number | null): JobCgroupTotals {
  const d = (k: "usage_us" | "user_us" | "system_us") => {
    const a = s.first[k] ?? 0, b = s.last[k];
    return typeof b === "number" ? Math.max(0, b - a) / 1e6 : null;
  };
  const total = d("usage_us"), u = d("user_us"), sy = d("system_us");
  // The kernel's user/system split is tick-sampled; the total is exact: scale the split to it.
  let user = u, system = sy;
  if (total !== null && u !== null && sy !== null && u + sy > 0) {
    user = (total * u) / (u + sy);
    system = total - user;
  }
  const io = (k: "read" | "write") =>
    s.last.io ? Math.max(0, s.last.io[k] - (s.first.io?.[k] ?? 0)) : null;
  const a = s.first.oom_kill, b = s.last.oom_kill;
  return {
    cpu_user_secs: user,
    cpu_system_secs: system,
    cpu_total_secs: total,
    memory_peak_bytes: peak,
    read_bytes: io("read"),
    write_bytes: io("write"),
    pids_peak: pidsPeak,
    oom_kills: typeof b === "number" ? Math.max(0, b - (a ?? 0)) : null,
  };
}

const pct = (x: number) => `${x < 10 ? x.toFixed(1) : x.toFixed(0)} %`;
/** Stall time below this share of the run is not worth a line. */
const STALL_REPORT_PCT = 5;
/** A memory peak at or above this share of the limit is worth a line. */
const NEAR_LIMIT_PCT = 80;

/** The summary lines: only what happened (nothing at all for an untroubled run). */
export function formatCgroupLines(
  c: CgroupRunSummary,
  o: { exitCode: number; durationSecs: number },
): string[] {
  const lines: string[] = [];
  const where = c.job ? "the job's cgroup" : `cgroup ${c.path}`;
  if (c.oom_kills) {
    const exit = o.exitCode === 137 ? " (exit 137 = SIGKILL)" : "";
    lines.push(`OOM killer fired ${c.oom_kills}× in ${where}${exit}`);
  } else if (c.memory_limit_hits) {
    lines.push(`memory limit reached ${c.memory_limit_hits}× in ${where} (reclaimed, no kill)`);
  }
  if (c.memory_high_events) {
    lines.push(
      `memory.high exceeded ${c.memory_high_events}× in ${where} (allocations throttled)`,
    );
  }
  if (c.pids_limit_hits) {
    const at = c.pids_limit !== null ? ` at its limit of ${c.pids_limit} tasks` : "";
    lines.push(`forks refused ${c.pids_limit_hits}× in ${where}${at}`);
  }
  if (c.memory_limit_bytes && c.memory_peak_pct_of_limit !== null) {
    if (c.memory_peak_pct_of_limit >= NEAR_LIMIT_PCT || c.oom_kills) {
      lines.push(
        `memory peaked at ${pct(c.memory_peak_pct_of_limit)} of its ${
          formatBytes(c.memory_limit_bytes)
        } limit`,
      );
    }
  }
  if (c.cpu_throttled_periods && c.cpu_throttled_pct_of_periods !== null) {
    const quota = c.cpu_quota_cores !== null ? ` under a ${c.cpu_quota_cores} core quota` : "";
    lines.push(
      `CPU throttled in ${pct(c.cpu_throttled_pct_of_periods)} of periods (${
        (c.throttled_secs ?? 0).toFixed(1)
      } s lost)${quota}`,
    );
  }
  if (o.durationSecs > 0) {
    const host = c.pressure_source === "host" ? " (host-wide pressure)" : "";
    for (
      const [what, secs] of [
        ["CPU", c.cpu_some_stall_secs],
        ["memory", c.memory_some_stall_secs],
        ["I/O", c.io_some_stall_secs],
      ] as const
    ) {
      const share = secs === null ? 0 : (secs / o.durationSecs) * 100;
      if (share >= STALL_REPORT_PCT) {
        lines.push(`stalled on ${what} ${pct(share)} of the run${host}`);
      }
    }
  }
  const x = c.cross_check;
  if (c.job) {
    const j = c.job;
    const parts = [
      j.cpu_total_secs !== null ? `CPU ${j.cpu_total_secs.toFixed(2)} s` : null,
      j.memory_peak_bytes !== null ? `memory peak ${formatBytes(j.memory_peak_bytes)}` : null,
      j.read_bytes !== null ? `read ${formatBytes(j.read_bytes)}` : null,
      j.write_bytes !== null ? `written ${formatBytes(j.write_bytes)}` : null,
      j.pids_peak !== null ? `up to ${j.pids_peak} tasks` : null,
    ].filter(Boolean);
    lines.push(`job cgroup: ${parts.join(", ")}`);
  }
  if (x) {
    const pctText = x.difference_pct.toFixed(1);
    const gap = Math.abs(x.tree_cpu_secs - x.cgroup_cpu_secs).toFixed(2);
    const verdict = x.warning
      ? `differ by ${pctText} % (> ${CROSS_CHECK_PCT} %): a process escaped the tree or was counted twice`
      : Math.abs(x.difference_pct) <= CROSS_CHECK_PCT
      ? `agree within ${Math.abs(x.difference_pct).toFixed(1)} %`
      : `differ by ${gap} s, within the tree's 10 ms ticks`;
    lines.push(
      `CPU tree ${x.tree_cpu_secs.toFixed(2)} s vs cgroup ${
        x.cgroup_cpu_secs.toFixed(2)
      } s: ${verdict}`,
    );
  }
  return lines.map((l) => `  Cgroup   ${l}`);
}
