/**
 * Invariants every tracked sample and run summary must satisfy (issue 13). tests/helpers.ts runs
 * them on the JSON output of every CLI run, so every live test checks them. A violation is a bug
 * in the tracker, never a tolerance to widen.
 *
 * - per-interval amounts ≥ 0 (CPU-seconds, bytes, cores);
 * - process cores ≤ host busy cores + tick rounding (one tick per CPU over the measured interval:
 *   /proc/stat and /proc/<pid>/stat truncate independently) ≤ online cores (the CFS quota is
 *   lower still);
 * - process PSS ≤ process RSS, and PSS ≤ MemTotal (whole MiB, floored: + 1);
 * - the run summary's totals are the sums of the intervals.
 */
import { ok } from "node:assert/strict";
import type { Sample } from "../base/sample.ts";

const TICK_SECS = 0.01; // USER_HZ 100
const EPS = 1e-9;

/** Problems found, one line each ("" when all hold). */
export function violations(samples: readonly Sample[], summary?: unknown): string[] {
  const out: string[] = [];
  samples.forEach((s, i) => {
    const c = s.cpu;
    if (s.tracked_pid === null) return;
    const at = `sample ${i} (t=${s.timestamp_ms})`;
    for (
      const k of [
        "process_utime_secs",
        "process_stime_secs",
        "process_cores_used",
        "process_disk_read_bytes",
        "process_disk_write_bytes",
      ] as const
    ) {
      const v = c[k];
      if (v !== null && !(v >= 0)) out.push(`${at}: ${k} = ${v} < 0`);
    }
    const cores = c.per_core_pct.length;
    const cu = c.process_cores_used;
    if (cu !== null && cores > 0 && s.actual_interval_ms) {
      const rounding = cores * TICK_SECS / (s.actual_interval_ms / 1000);
      if (cu > c.utilization_pct + rounding + EPS) {
        out.push(
          `${at}: process_cores_used ${cu} > host busy ${c.utilization_pct} + rounding ${rounding}`,
        );
      }
      if (cu > cores + EPS) out.push(`${at}: process_cores_used ${cu} > ${cores} online cores`);
    }
    const pss = c.process_pss_mib, rss = c.process_rss_mib;
    if (pss !== null && rss !== null && pss > rss + 1e-4) {
      out.push(`${at}: PSS ${pss} > RSS ${rss}`);
    }
    if (pss !== null && s.memory.total_mib > 0 && pss > s.memory.total_mib + 1) {
      out.push(`${at}: PSS ${pss} MiB > MemTotal ${s.memory.total_mib} MiB`);
    }
  });
  const r = summary as
    | { cpu?: { user_secs: number; system_secs: number }; disk?: Record<string, number> }
    | null
    | undefined;
  if (r?.cpu && samples.length > 0) {
    const sum = (f: (s: Sample) => number | null) => samples.reduce((a, s) => a + (f(s) ?? 0), 0);
    const pairs: [string, number, number][] = [
      ["cpu.user_secs", r.cpu.user_secs, sum((s) => s.cpu.process_utime_secs)],
      ["cpu.system_secs", r.cpu.system_secs, sum((s) => s.cpu.process_stime_secs)],
      ["disk.read_bytes", r.disk?.read_bytes ?? 0, sum((s) => s.cpu.process_disk_read_bytes)],
      ["disk.write_bytes", r.disk?.write_bytes ?? 0, sum((s) => s.cpu.process_disk_write_bytes)],
    ];
    for (const [name, total, intervals] of pairs) {
      if (Math.abs(total - intervals) > 1e-6 * Math.max(1, total)) {
        out.push(`summary ${name} ${total} != Σ intervals ${intervals}`);
      }
    }
  }
  return out;
}

/** Throws with every violation listed. */
export function assertInvariants(samples: readonly Sample[], summary?: unknown, ctx = ""): void {
  const v = violations(samples, summary);
  ok(v.length === 0, `invariants violated${ctx ? ` (${ctx})` : ""}:\n${v.join("\n")}`);
}
