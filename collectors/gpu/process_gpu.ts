/**
 * What the NVIDIA back-ends (NVML, nvidia-smi) hand to the collector, and the pure rules of
 * docs/COMPATIBILITY.md §3.14 that turn it into the three `process_gpu_*` values.
 */
import type { GpuSample } from "../../base/sample.ts";
import type { EnergyCounter } from "./energy_counter.ts";
import { MIB } from "../../base/units.ts";

export interface ProcessGpu {
  /** Σ SM/GFX percent ÷ 100 (fractional GPUs). */
  usage: number;
  /** Σ per-process VRAM, MiB. */
  vram_mib: number;
  /** GPUs on which the tree (or anything, when untracked) has a process. */
  utilized: number;
}

export interface NvidiaDevice {
  sample: GpuSample;
  /** Running compute + graphics processes, one entry per PID; bytes null when not available. */
  processes: { pid: number; usedBytes: number | null }[];
  /** Latest SM percent per PID on this device. */
  sm: Map<number, number>;
  /** NVML's total-energy counter, when the device has one and it answered this refresh. */
  energy?: EnergyCounter;
}

export interface NvidiaSnapshot {
  devices: NvidiaDevice[];
}

export function zeroProcessGpu(): ProcessGpu {
  return { usage: 0, vram_mib: 0, utilized: 0 };
}

export function addProcessGpu(a: ProcessGpu, b: ProcessGpu): ProcessGpu {
  return {
    usage: a.usage + b.usage,
    vram_mib: a.vram_mib + b.vram_mib,
    utilized: a.utilized + b.utilized,
  };
}

/**
 * Host-wide when `tree` is null (no PID tracked), else only the tree's PIDs: an empty tree (the
 * job ended) has none (docs/COMPATIBILITY.md §3.14 amended by issue 13).
 */
export function nvidiaProcessGpu(
  snapshot: NvidiaSnapshot,
  tree: ReadonlySet<number> | null,
): ProcessGpu {
  const all = tree === null;
  let sm = 0;
  let bytes = 0;
  let utilized = 0;
  for (const dev of snapshot.devices) {
    let matched = false;
    for (const p of dev.processes) {
      if (!all && !tree.has(p.pid)) continue;
      matched = true;
      if (p.usedBytes !== null) bytes += p.usedBytes;
    }
    if (matched) utilized++;
    for (const [pid, util] of dev.sm) if (all || tree.has(pid)) sm += util;
  }
  return { usage: sm / 100, vram_mib: bytes / MIB, utilized };
}

/** Merges compute and graphics lists: one entry per PID, first known byte count wins. */
export function mergeProcesses(
  lists: { pid: number; usedBytes: number | null }[][],
): { pid: number; usedBytes: number | null }[] {
  const byPid = new Map<number, number | null>();
  for (const list of lists) {
    for (const p of list) {
      const prev = byPid.get(p.pid);
      if (prev === undefined || prev === null) byPid.set(p.pid, p.usedBytes);
    }
  }
  return [...byPid].map(([pid, usedBytes]) => ({ pid, usedBytes }));
}

/** `used/total×100`, 0 when total is 0. */
export function usedPct(used: number, total: number): number {
  return total > 0 ? (used / total) * 100 : 0;
}
