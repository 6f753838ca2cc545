/**
 * Right-sizing that explains itself. The rule, stated in RULE below and printed with every
 * recommendation:
 * - vCPUs: the 95th percentile of the cores used (time-weighted) plus 20 % headroom, rounded up
 *   to a size clouds sell (1, 2, 4, 8, 16 …), at least 1. When the job ran at ≥ 90 % of every
 *   core for a quarter of the run or more, it was CPU-bound: the next size up is recommended.
 * - Memory: the peak (PSS of the tree; host used when nothing was tracked) plus 20 % headroom,
 *   rounded up to 0.5, 1, 2, 4, 8 … GiB. Swap use or a peak ≥ 90 % of the host/limit means it
 *   was memory-bound: the next size above the host is recommended.
 * - GPUs: as many as the job had processes on at once (at least ceil(p95 use)); VRAM = peak + 20 %
 *   rounded up to a whole GiB. None when no GPU was used.
 * The Python tracker divides a MiB figure by 1024 again and recommends 128 MiB for most jobs;
 * here every figure stays in MiB until it is printed.
 */
import type { Usage } from "./usage.ts";

export const HEADROOM = 1.2;
export const VCPU_SIZES = [1, 2, 4, 8, 16, 32, 48, 64, 96, 128, 192, 256, 384, 448, 512] as const;
export const MEMORY_GIB_SIZES = [
  0.5,
  1,
  2,
  4,
  8,
  16,
  32,
  48,
  64,
  96,
  128,
  192,
  256,
  384,
  512,
  768,
  1024,
  1536,
  2048,
] as const;

export const RULE =
  "vCPUs = p95 of cores used × 1.2, memory = peak × 1.2, VRAM = peak × 1.2, each rounded up to a size clouds sell; the next size up where the job was CPU- or memory-bound";

export type Verdict =
  | "cpu-bound"
  | "cpu-contended"
  | "single-threaded"
  | "memory-bound"
  | "io-heavy"
  | "gpu-bound"
  | "idle"
  | "oversized";

export interface Recommendation {
  rule: string;
  subject: Usage["subject"];
  vcpus: number;
  memoryMib: number;
  gpus: number;
  gpuVramMib: number;
  verdicts: Verdict[];
  /** One line per fact behind the numbers, in the order a reader needs them. */
  evidence: string[];
}

/** Smallest size ≥ need; beyond the table, the next multiple of its last step. */
export function roundUp(need: number, sizes: readonly number[]): number {
  for (const s of sizes) if (s >= need - 1e-9) return s;
  const last = sizes[sizes.length - 1]!;
  return Math.ceil(need / last) * last;
}

/** The next size strictly above x. */
function nextAbove(x: number, sizes: readonly number[]): number {
  for (const s of sizes) if (s > x + 1e-9) return s;
  return roundUp(x * 1.5, sizes);
}

export function fmtMib(mib: number): string {
  if (!Number.isFinite(mib)) return "unknown";
  if (mib >= 1024) return `${+(mib / 1024).toFixed(mib >= 10240 ? 0 : 1)} GiB`;
  return `${Math.round(mib)} MiB`;
}

export function fmtBytes(b: number): string {
  const u = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  while (b >= 1000 && i < u.length - 1) {
    b /= 1000;
    i++;
  }
  return i === 0 ? `${Math.round(b)} B` : `${b.toFixed(b >= 100 ? 0 : 1)} ${u[i]}`;
}

const pct = (x: number) => `${Math.round(x * 100)} %`;
const c2 = (x: number) => x.toFixed(2);

/** Disk throughput (bytes/s, averaged over the run) above which a quiet-CPU job is I/O-heavy. */
const IO_HEAVY_BPS = 5e6;

export function recommend(u: Usage): Recommendation {
  const ev: string[] = [];
  const verdicts: Verdict[] = [];
  const Vh = u.host.vcpus;
  // A CFS quota below the host's size is what the job could use (containers).
  const Q = u.host.cpuLimitCores && (!Vh || u.host.cpuLimitCores < Vh)
    ? u.host.cpuLimitCores
    : null;
  const V = Q ?? Vh;
  const ofV = Q ? `the ${+Q.toFixed(2)}-core CPU limit` : `${V} cores`;
  const { mean, p95, max, hist } = u.cores;
  const who = u.subject === "host" ? "the host (nothing tracked)" : "the job";

  // CPU
  let vcpus = Math.max(1, roundUp(Math.max(p95, 0) * HEADROOM, VCPU_SIZES));
  const sat = V ? hist.above(0.9 * V) : { share: 0, mean: NaN };
  if (!Number.isFinite(p95)) {
    ev.push("no CPU figures in the recording: 1 vCPU is a guess");
  } else if (V && sat.share >= 0.25) {
    verdicts.push("cpu-bound");
    vcpus = Q
      ? Math.max(roundUp(Q * HEADROOM, VCPU_SIZES), nextAbove(Q, VCPU_SIZES))
      : nextAbove(V, VCPU_SIZES);
    ev.push(
      `used ${c2(sat.mean)} of ${ofV} for ${
        pct(sat.share)
      } of the run: CPU-bound, more cores would help`,
    );
  } else if (V && V >= 2 && p95 >= 0.85 && p95 <= 1.15 && max <= 1.3) {
    verdicts.push("single-threaded");
    ev.push(
      `about one core busy (p95 ${c2(p95)}, peak ${
        c2(max)
      }) of ${ofV}: single-threaded, more cores would not help, faster ones would`,
    );
  }
  // Written once the contention check below has settled the number.
  const cpuLine = Number.isFinite(p95) ? ev.push("") - 1 : -1;

  // Memory
  const peak = u.memPeakMib;
  const H = u.host.memoryMib;
  // A limit above the host's memory limits nothing.
  const L = u.host.memoryLimitMib && (!H || u.host.memoryLimitMib < H)
    ? u.host.memoryLimitMib
    : null;
  let memoryMib = Number.isFinite(peak)
    ? roundUp(Math.max(peak, 1) * HEADROOM / 1024, MEMORY_GIB_SIZES) * 1024
    : 512;
  const bound = L ?? H;
  if (Number.isFinite(peak)) {
    const of = [
      H ? `${pct(peak / H)} of the host's ${fmtMib(H)}` : null,
      L ? `${pct(peak / L)} of the ${fmtMib(L)} limit` : null,
    ].filter(Boolean);
    ev.push(
      `memory of ${who}${u.subject === "host" ? " (used)" : " (PSS)"} peaked at ${fmtMib(peak)}${
        of.length ? ` (${of.join(", ")})` : ""
      } → ${fmtMib(memoryMib)}`,
    );
    const swapped = u.swapPeakMib > 0 && u.subject === "host";
    if ((bound && peak >= 0.9 * bound) || swapped) {
      verdicts.push("memory-bound");
      memoryMib = Math.max(memoryMib, nextAbove((bound ?? peak) / 1024, MEMORY_GIB_SIZES) * 1024);
      ev.push(
        `${
          swapped ? `swap in use (peak ${fmtMib(u.swapPeakMib)})` : "memory near the ceiling"
        }: memory-bound, more memory would help`,
      );
    }
  } else {
    ev.push("no memory figures in the recording: 512 MiB is a guess");
  }
  if (Number.isFinite(u.swapPeakMib) && u.swapPeakMib > 0 && u.subject !== "host") {
    ev.push(`the host used ${fmtMib(u.swapPeakMib)} of swap during the run`);
  }

  // I/O and idle
  const d = u.durationSecs;
  const diskMean = d > 0 ? u.diskBytes / d : 0;
  const netMean = d > 0 ? u.netBytes / d : 0;
  const quietCpu = Number.isFinite(mean) && mean < 0.5 * Math.max(1, Math.min(V ?? 1, 2));
  if (diskMean >= IO_HEAVY_BPS && quietCpu && !verdicts.includes("cpu-bound")) {
    verdicts.push("io-heavy");
    ev.push(
      `disks moved ${fmtBytes(u.diskBytes)} (${fmtBytes(diskMean)}/s on average, peak ${
        fmtBytes(u.diskPeakBps)
      }/s) while CPU averaged ${
        c2(mean)
      } cores: I/O-bound, faster storage would help more than cores`,
    );
  } else if (u.diskBytes > 0) {
    ev.push(`disk I/O ${fmtBytes(u.diskBytes)} in all (${fmtBytes(diskMean)}/s on average)`);
  }
  if (
    Number.isFinite(mean) && mean < 0.05 && diskMean < 1e6 && netMean < 1e6 &&
    !(u.gpu && u.gpu.mean > 0.05)
  ) {
    verdicts.push("idle");
    ev.push(`CPU averaged ${c2(mean)} cores with little I/O: mostly idle, the smallest size fits`);
  }

  const hostSat = Vh ? u.hostHist.above(0.9 * Vh) : { share: 0, mean: NaN };
  if (
    Vh && u.subject !== "host" && hostSat.share >= 0.25 && mean >= 0.15 &&
    !verdicts.some((v) => v === "cpu-bound" || v === "io-heavy" || v === "idle") &&
    u.hostCoresMean - mean >= 0.25 * Vh
  ) {
    verdicts.push("cpu-contended");
    // What the job would use alone is unknown: do not shrink below the host it ran on.
    vcpus = Math.max(vcpus, roundUp(V ?? Vh, VCPU_SIZES));
    ev.push(
      `all ${Vh} cores of the host were busy for ${
        pct(hostSat.share)
      } of the run while the job had ${
        c2(mean)
      } of them on average: other work competed for the CPU, so the job's figures understate what it would use alone`,
    );
  }

  if (cpuLine >= 0) {
    ev[cpuLine] = `CPU of ${who}: mean ${c2(mean)}, p95 ${c2(p95)}, peak ${c2(max)} cores${
      Q ? ` of ${ofV} (host: ${Vh ?? "?"} vCPUs)` : V ? ` of ${V} vCPUs` : " (host size unknown)"
    } → ${vcpus} vCPU${vcpus === 1 ? "" : "s"}${
      verdicts.includes("cpu-contended") ? " (not fewer than the host: it was contended)" : ""
    }`;
  }

  // GPU
  let gpus = 0, gpuVramMib = 0;
  const G = u.host.gpuCount;
  if (u.gpu && (u.gpu.max > 0 || u.gpu.vramPeakMib > 0)) {
    const util = Number.isFinite(u.gpu.utilizedPeak) ? u.gpu.utilizedPeak : 0;
    gpus = Math.max(1, util, Math.ceil(Math.max(0, u.gpu.p95) - 1e-9));
    gpuVramMib = Math.ceil(Math.max(u.gpu.vramPeakMib || 0, 1) * HEADROOM / 1024) * 1024;
    ev.push(
      `GPU: mean ${c2(u.gpu.mean)}, p95 ${c2(u.gpu.p95)}, peak ${c2(u.gpu.max)} GPUs busy${
        G ? ` of ${G}` : ""
      }; VRAM peaked at ${fmtMib(u.gpu.vramPeakMib)}${
        u.host.gpuMemoryMib ? ` of ${fmtMib(u.host.gpuMemoryMib)}` : ""
      } → ${gpus} GPU${gpus === 1 ? "" : "s"} with ≥ ${fmtMib(gpuVramMib)}`,
    );
    if (G && u.gpu.p95 >= 0.9 * G) {
      verdicts.push("gpu-bound");
      ev.push("GPUs busy ≥ 90 % for most of the run: GPU-bound, more or faster GPUs would help");
    }
  } else if (G) {
    ev.push(`${G} GPU${G === 1 ? "" : "s"} present but unused: a machine without GPUs would do`);
  }

  if (
    V && vcpus < V && (!H || memoryMib < H) &&
    !verdicts.some((v) => v === "cpu-bound" || v === "cpu-contended")
  ) {
    verdicts.push("oversized");
  }
  return {
    rule: RULE,
    subject: u.subject,
    vcpus,
    memoryMib,
    gpus,
    gpuVramMib,
    verdicts,
    evidence: ev,
  };
}

/** The lines the terminal summary and the report's text share. */
export function formatRecommendation(r: Recommendation): string[] {
  const gpu = r.gpus > 0
    ? `, ${r.gpus} GPU${r.gpus === 1 ? "" : "s"} (≥ ${fmtMib(r.gpuVramMib)} VRAM)`
    : ", no GPU";
  return [
    `Recommend ${r.vcpus} vCPU${r.vcpus === 1 ? "" : "s"}, ${fmtMib(r.memoryMib)} memory${gpu}`,
    ...r.evidence.map((e) => `  - ${e}`),
    `  rule: ${r.rule}`,
  ];
}
