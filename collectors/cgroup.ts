/**
 * Container CPU accounting (docs/COMPATIBILITY.md §3.4): cgroup v2 `cpu.stat` usage_usec, else cgroup v1
 * `cpuacct.usage` (ns); the CFS quota from `cpu.max` (v2) or `cpu.cfs_quota_us`/`cpu.cfs_period_us`.
 */
import { readText } from "./read.ts";

export type CgroupSource =
  | { kind: "v2"; path: string }
  | { kind: "v1"; path: string }
  | { kind: "none" };

const V1_USAGE = ["cpuacct/cpuacct.usage", "cpu,cpuacct/cpuacct.usage", "cpu/cpuacct.usage"];
const V1_QUOTA_DIRS = ["cpu", "cpu,cpuacct", "cpuacct"];

/** `usage_usec` from a cgroup v2 cpu.stat text, in microseconds. */
export function parseCpuStatUsage(text: string): number | undefined {
  const match = /^usage_usec\s+(\d+)\s*$/m.exec(text);
  const usec = match ? Number(match[1]) : NaN;
  return Number.isFinite(usec) ? usec : undefined;
}

/** Cores allowed by a v2 `cpu.max` text ("quota period" or "max period"). */
export function parseCpuMax(text: string): number | undefined {
  const [quota, period] = text.trim().split(/\s+/);
  if (quota === undefined || quota === "max" || period === undefined) return undefined;
  const q = Number(quota), p = Number(period);
  return q > 0 && p > 0 && Number.isFinite(q / p) ? q / p : undefined;
}

export function detectCgroup(sys: string): CgroupSource {
  const v2 = `${sys}/fs/cgroup/cpu.stat`;
  const text = readText(v2);
  if (text !== undefined && parseCpuStatUsage(text) !== undefined) return { kind: "v2", path: v2 };
  for (const rel of V1_USAGE) {
    const path = `${sys}/fs/cgroup/${rel}`;
    if (readText(path) !== undefined) return { kind: "v1", path };
  }
  return { kind: "none" };
}

/** Cumulative cgroup CPU usage in seconds, or undefined when unreadable. */
export function readCgroupUsageSecs(source: CgroupSource): number | undefined {
  if (source.kind === "none") return undefined;
  const text = readText(source.path);
  if (text === undefined) return undefined;
  if (source.kind === "v2") {
    const usec = parseCpuStatUsage(text);
    return usec === undefined ? undefined : usec / 1e6;
  }
  const ns = Number(text.trim());
  return Number.isFinite(ns) ? ns / 1e9 : undefined;
}

/** CFS quota in cores, or undefined when unlimited or unknown. */
export function readQuotaCores(sys: string): number | undefined {
  const v2 = readText(`${sys}/fs/cgroup/cpu.max`);
  if (v2 !== undefined) return parseCpuMax(v2);
  for (const dir of V1_QUOTA_DIRS) {
    const q = Number(readText(`${sys}/fs/cgroup/${dir}/cpu.cfs_quota_us`)?.trim());
    const p = Number(readText(`${sys}/fs/cgroup/${dir}/cpu.cfs_period_us`)?.trim());
    if (q > 0 && p > 0 && Number.isFinite(q / p)) return q / p;
  }
  return undefined;
}

/** `cgroup_usage_secs` and `cgroup_utilization_pct` for one interval. */
export function deriveCgroup(
  prevSecs: number,
  currSecs: number,
  elapsedSecs: number,
  effectiveCores: number,
): { usage_secs: number; utilization_pct: number } {
  const usage = Math.max(0, currSecs - prevSecs);
  return { usage_secs: usage, utilization_pct: Math.min(usage / elapsedSecs, effectiveCores) };
}
