/**
 * Host CPU from /proc/stat (units: clock ticks, USER_HZ). Parsing is pure; `deriveCpu` turns two
 * snapshots into the sample fields (docs/COMPATIBILITY.md §3.1–3.3).
 */
import { readText } from "./read.ts";

/** Tick counters of one `cpu` line; guest fields are already inside user/nice and are ignored. */
export interface CpuTimes {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
}

export interface ProcStat {
  total: CpuTimes;
  /** One entry per `cpuN` line, keyed by N so offline CPUs do not shift the others. */
  cores: { id: number; times: CpuTimes }[];
}

const FIELDS = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"] as const;

function parseTimes(parts: string[]): CpuTimes | undefined {
  const times = {} as CpuTimes;
  for (let i = 0; i < FIELDS.length; i++) {
    const raw = parts[i + 1];
    // Old kernels lack iowait/irq/softirq/steal: missing trailing fields count as 0.
    const value = raw === undefined ? 0 : Number(raw);
    if (!Number.isFinite(value) || value < 0) return undefined;
    times[FIELDS[i]!] = value;
  }
  return times;
}

/** Parses /proc/stat; `undefined` when the aggregate `cpu` line is missing or malformed. */
export function parseProcStat(text: string): ProcStat | undefined {
  let total: CpuTimes | undefined;
  const cores: ProcStat["cores"] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("cpu")) continue;
    const parts = line.trim().split(/\s+/);
    const name = parts[0]!;
    if (parts.length < 5) continue;
    const times = parseTimes(parts);
    if (!times) continue;
    if (name === "cpu") total = times;
    else if (/^cpu\d+$/.test(name) && Number.isSafeInteger(Number(name.slice(3)))) {
      cores.push({ id: Number(name.slice(3)), times });
    }
  }
  return total ? { total, cores } : undefined;
}

export function readProcStat(proc: string): ProcStat | undefined {
  const text = readText(`${proc}/stat`);
  return text === undefined ? undefined : parseProcStat(text);
}

function sum(t: CpuTimes): number {
  return t.user + t.nice + t.system + t.idle + t.iowait + t.irq + t.softirq + t.steal;
}

const sat = (a: number, b: number) => (a > b ? a - b : 0);

/** Busy and total ticks between two snapshots of one cpu line (saturating). */
export function busyTicks(prev: CpuTimes, curr: CpuTimes): { busy: number; total: number } {
  const total = sat(sum(curr), sum(prev));
  const idle = sat(curr.idle + curr.iowait, prev.idle + prev.iowait);
  return { busy: total - Math.min(idle, total), total };
}

function busyPct(prev: CpuTimes, curr: CpuTimes): number {
  const { busy, total } = busyTicks(prev, curr);
  return total === 0 ? 0 : (busy / total) * 100;
}

export interface CpuDerived {
  utilization_pct: number;
  per_core_pct: number[];
  utime_secs: number;
  stime_secs: number;
}

/** Host CPU fields for one interval. `tps` = clock ticks per second (USER_HZ, 100 on Linux). */
export function deriveCpu(prev: ProcStat, curr: ProcStat, tps: number): CpuDerived {
  const cores = curr.cores.length;
  const prevById = new Map(prev.cores.map((c) => [c.id, c.times]));
  return {
    // busy ratio × online cores: fractional cores, not clamped (docs/COMPATIBILITY.md §3.1).
    utilization_pct: (busyPct(prev.total, curr.total) / 100) * cores,
    per_core_pct: curr.cores.map((c) => {
      const p = prevById.get(c.id);
      return p ? Math.min(100, Math.max(0, busyPct(p, c.times))) : 0;
    }),
    utime_secs: sat(curr.total.user + curr.total.nice, prev.total.user + prev.total.nice) / tps,
    stime_secs: sat(curr.total.system, prev.total.system) / tps,
  };
}

/** Zero-interval CPU fields (the baseline has no previous snapshot). */
export function zeroCpu(curr: ProcStat): CpuDerived {
  return {
    utilization_pct: 0,
    per_core_pct: curr.cores.map(() => 0),
    utime_secs: 0,
    stime_secs: 0,
  };
}
