/**
 * A run's energy, always labelled with how it was obtained:
 * - `measured`: the samples carry joules read from hardware counters (RAPL packages and DRAM,
 *   amdgpu hwmon, NVML energy or GPU power × time); ±10 %, and it covers only those devices (not fans, disks,
 *   power supply losses).
 * - `estimated`: no counter was readable (most VMs): host power is modelled from CPU use,
 *   P = vCPUs × (idle + (busy − idle) × utilisation) + memory GiB × 0.392 W, with the per-vCPU
 *   wattages of the Cloud Carbon Footprint method (0.74 W idle, 3.5 W busy by default, settable
 *   with --vcpu-watts), plus measured GPU board power when the samples have it; ±50 %.
 * Power is integrated trapezoidally; gaps over 3 intervals are not bridged.
 */
import { integratePower, JOULES_PER_KWH, validWatts } from "../base/integrate.ts";
import type { Recording } from "./series.ts";

export interface EnergySettings {
  /** W per vCPU when idle and when busy. */
  vcpuWatts: [number, number];
  /** W per GiB of memory. */
  memoryWattsPerGib: number;
  /** Price per kWh (null: no energy cost). */
  pricePerKwh: number | null;
  /** Grid carbon intensity, g CO₂e per kWh. */
  gridGPerKwh: number;
}

export const DEFAULT_ENERGY: EnergySettings = {
  vcpuWatts: [0.74, 3.5],
  memoryWattsPerGib: 0.392,
  pricePerKwh: null,
  gridGPerKwh: 475,
};

export interface RunEnergy {
  method: "measured" | "estimated";
  /** Relative uncertainty (0.1 = ±10 %). */
  uncertainty: number;
  joules: number;
  kwh: number;
  meanWatts: number;
  /** Per-sample watts for the chart. */
  watts: number[];
  cost: number | null;
  co2Grams: number;
  /** One sentence: what was counted and how. */
  basis: string;
  uncoveredSecs: number;
}

/** Parses `IDLE,BUSY` watts per vCPU. */
export function parseVcpuWatts(v: unknown): [number, number] {
  const parts = String(v).split(/[,:]/).map((x) => Number(x.trim()));
  if (
    parts.length !== 2 || !parts.every((x) => Number.isFinite(x) && x >= 0 && x <= 1000) ||
    parts[0]! > parts[1]!
  ) {
    throw new Error(`expected IDLE,BUSY watts per vCPU such as 0.74,3.5, got ${JSON.stringify(v)}`);
  }
  return parts as [number, number];
}

export function runEnergy(r: Recording, s: EnergySettings = DEFAULT_ENERGY): RunEnergy {
  const c = r.cols;
  const tSecs = c.t.map((t) => t / 1000);
  const typical = median(c.dt) || 1;
  const maxGap = 3 * typical;
  const measured = c.energyJoules.some((j) => Number.isFinite(j) && j >= 0);
  let joules = 0, uncovered = 0;
  let watts: number[];
  let basis: string;
  if (measured) {
    // Each sample's joules come from counter deltas (or the collector's own integration).
    watts = c.energyJoules.map((j, i) => (j >= 0 && c.dt[i]! > 0 ? j / c.dt[i]! : NaN));
    for (let i = 0; i < c.t.length; i++) {
      const j = c.energyJoules[i]!;
      if (Number.isFinite(j) && j >= 0 && validWatts(j / (c.dt[i]! || 1))) joules += j;
      else uncovered += c.dt[i]!;
    }
    const domains = r.run?.energy?.domains;
    basis = `hardware counters${
      Array.isArray(domains) && domains.length ? ` (${domains.join(", ")})` : ""
    }; devices without a counter are not included`;
  } else {
    const V = r.host.vcpus ??
      Math.max(1, Math.ceil(c.hostCores.reduce((a, x) => (x > a ? x : a), 1)));
    const memGib = (r.host.memoryMib ?? 0) / 1024;
    const [idle, busy] = s.vcpuWatts;
    watts = c.hostCores.map((cores, i) => {
      const util = Number.isFinite(cores) ? Math.min(1, Math.max(0, cores / V)) : NaN;
      const gpu = validWatts(c.gpuWatts[i]!) ? c.gpuWatts[i]! : 0;
      return V * (idle + (busy - idle) * util) + memGib * s.memoryWattsPerGib + gpu;
    });
    // The first sample's power also holds for the time before it (it covers [t − dt, t]).
    const t = [tSecs[0]! - c.dt[0]!, ...tSecs];
    const w = [watts[0]!, ...watts];
    const it = integratePower(t, w, maxGap);
    joules = it.joules;
    uncovered = it.uncoveredSecs;
    const vText = r.host.vcpus
      ? `${V} vCPUs`
      : `${V} vCPUs (host size unknown: the busiest sample's cores, rounded up)`;
    basis = `model of ${vText} at ${idle}–${busy} W each by utilisation + ${
      memGib.toFixed(1)
    } GiB memory at ${s.memoryWattsPerGib} W/GiB${
      c.gpuWatts.some((x) => x > 0) ? " + measured GPU board power" : ""
    } (no energy counter was readable)`;
  }
  const dur = c.dt.reduce((a, b) => a + b, 0);
  const kwh = joules / JOULES_PER_KWH;
  return {
    method: measured ? "measured" : "estimated",
    uncertainty: measured ? 0.1 : 0.5,
    joules,
    kwh,
    meanWatts: dur > 0 ? joules / dur : NaN,
    watts,
    cost: s.pricePerKwh !== null ? kwh * s.pricePerKwh : null,
    co2Grams: kwh * s.gridGPerKwh,
    basis,
    uncoveredSecs: uncovered,
  };
}

function median(xs: readonly number[]): number {
  const v = xs.filter((x) => Number.isFinite(x) && x > 0).sort((a, b) => a - b);
  return v.length ? v[Math.floor(v.length / 2)]! : 0;
}
