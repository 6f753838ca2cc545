/**
 * A GPU's own energy counter (NVML's total energy, mJ since the driver loaded), carried from the
 * GPU collector to the energy meter beside the `gpu[]` samples, never inside them: docs/COMPATIBILITY.md §1.7
 * fixes a sample's keys and every format serialises samples whole. A WeakMap keyed by the very
 * sample object the collector hands out is the channel: nothing for formats to strip, a copy of a
 * sample (replay, a sink's clone) carries no counter, and the entry is freed with the sample.
 */
import type { GpuSample } from "../../base/sample.ts";

export interface EnergyCounter {
  /** Millijoules since the driver loaded (wraps only on driver reload: it then goes back). */
  mj: number;
  /** Monotonic milliseconds when the counter was read (a stale snapshot repeats it). */
  atMs: number;
}

const counters = new WeakMap<GpuSample, EnergyCounter>();

export function attachEnergyCounter(sample: GpuSample, counter: EnergyCounter): void {
  counters.set(sample, counter);
}

/** The counter read with this sample; undefined where the GPU has none (pre-Volta, nvidia-smi). */
export function energyCounterOf(sample: GpuSample): EnergyCounter | undefined {
  return counters.get(sample);
}
