/**
 * Statistics over a run's columns, weighted by the time each sample covers (a 10 s gap counts
 * ten times a 1 s sample). NaN values are left out; every function says what it returns for none.
 */
import type { Recording } from "./series.ts";

export interface Dist {
  /** Samples with a value. */
  count: number;
  /** Time-weighted mean (NaN when count is 0). */
  mean: number;
  p50: number;
  p95: number;
  max: number;
}

/** Time-weighted quantile q (0..1) of xs with weights w; NaN when nothing is finite. */
export function weightedQuantile(xs: readonly number[], w: readonly number[], q: number): number {
  const idx: number[] = [];
  for (let i = 0; i < xs.length; i++) if (Number.isFinite(xs[i]!) && w[i]! > 0) idx.push(i);
  if (idx.length === 0) return NaN;
  idx.sort((a, b) => xs[a]! - xs[b]!);
  let total = 0;
  for (const i of idx) total += w[i]!;
  const target = q * total;
  let acc = 0;
  for (const i of idx) {
    acc += w[i]!;
    if (acc >= target - 1e-9) return xs[i]!;
  }
  return xs[idx[idx.length - 1]!]!;
}

export function dist(xs: readonly number[], w: readonly number[]): Dist {
  let count = 0, sum = 0, wsum = 0, max = -Infinity;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i]!;
    if (!Number.isFinite(x)) continue;
    count++;
    sum += x * w[i]!;
    wsum += w[i]!;
    if (x > max) max = x;
  }
  return {
    count,
    mean: wsum > 0 ? sum / wsum : NaN,
    p50: weightedQuantile(xs, w, 0.5),
    p95: weightedQuantile(xs, w, 0.95),
    max: count ? max : NaN,
  };
}

/** Fraction (0..1) of the measured time where pred holds (NaN values count as not holding). */
export function timeShare(
  xs: readonly number[],
  w: readonly number[],
  pred: (x: number) => boolean,
): number {
  let yes = 0, all = 0;
  for (let i = 0; i < xs.length; i++) {
    all += w[i]!;
    if (Number.isFinite(xs[i]!) && pred(xs[i]!)) yes += w[i]!;
  }
  return all > 0 ? yes / all : 0;
}

/** Σ rate × dt: bytes from bytes per second. */
export function integrate(xs: readonly number[], w: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) if (Number.isFinite(xs[i]!)) s += xs[i]! * w[i]!;
  return s;
}

export interface RunStats {
  /** Wall time covered by the samples, s (Σ dt). */
  durationSecs: number;
  startMs: number;
  endMs: number;
  samples: number;
  /** Whose CPU/memory the recommendation is about. */
  subject: "process tree" | "host";
  cores: Dist;
  hostCores: Dist;
  memoryMib: Dist;
  hostMemUsedMib: Dist;
  /** Σ cores × dt, CPU-seconds. */
  cpuSecs: number;
  swapPeakMib: number;
  diskReadBytes: number;
  diskWriteBytes: number;
  diskBps: Dist;
  procReadBytes: number;
  procWriteBytes: number;
  netRxBytes: number;
  netTxBytes: number;
  gpu: { usage: Dist; vramMib: Dist; utilizedPeak: number } | null;
}

export function runStats(r: Recording): RunStats {
  const c = r.cols, w = c.dt;
  const proc = r.tracked && c.procCores.some(Number.isFinite);
  const cores = proc ? c.procCores : c.hostCores;
  const mem = proc ? c.procPssMib : c.hostMemUsedMib;
  const io = c.diskReadBps.map((x, i) => x + c.diskWriteBps[i]!);
  const gpuUse = proc && c.procGpuUsage.some(Number.isFinite) ? c.procGpuUsage : c.gpuUsage;
  const gpuVram = proc && c.procGpuVramMib.some(Number.isFinite) ? c.procGpuVramMib : c.gpuVramMib;
  const hasGpu = gpuUse.some((x) => x > 0) || gpuVram.some((x) => x > 0) ||
    (r.host.gpuCount ?? 0) > 0;
  const durationSecs = integrate(w.map(() => 1), w);
  return {
    durationSecs,
    startMs: c.t[0]! - w[0]! * 1000,
    endMs: c.t[c.t.length - 1]!,
    samples: c.t.length,
    subject: proc ? "process tree" : "host",
    cores: dist(cores, w),
    hostCores: dist(c.hostCores, w),
    memoryMib: dist(mem, w),
    hostMemUsedMib: dist(c.hostMemUsedMib, w),
    cpuSecs: integrate(cores, w),
    swapPeakMib: dist(c.swapUsedMib, w).max,
    diskReadBytes: integrate(c.diskReadBps, w),
    diskWriteBytes: integrate(c.diskWriteBps, w),
    diskBps: dist(io, w),
    procReadBytes: integrate(c.procReadBps, w),
    procWriteBytes: integrate(c.procWriteBps, w),
    netRxBytes: integrate(c.netRxBps, w),
    netTxBytes: integrate(c.netTxBps, w),
    gpu: hasGpu
      ? {
        usage: dist(gpuUse, w),
        vramMib: dist(gpuVram, w),
        utilizedPeak: dist(c.procGpuUtilized, w).max,
      }
      : null,
  };
}
