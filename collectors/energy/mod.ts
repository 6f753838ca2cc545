/**
 * Measured energy per sample: RAPL (CPU packages, DRAM), amdgpu hwmon (energy counter or power),
 * NVIDIA GPUs from NVML's total-energy counter (mJ since the driver loaded, Volta and newer),
 * handed over beside the GPU samples (gpu/energy_counter.ts). An NVIDIA GPU without the counter,
 * or an interval where it is missing, has no baseline yet, or went back (driver reload), counts
 * board power × time from the samples instead (trapezoidal, for that interval only). A stale
 * counter (the GPU refresh has not finished since the last sample) counts nothing now; the next
 * fresh delta covers both intervals, so totals stay exact. A device whose reading is impossible
 * (NaN, negative, a wrap that does not fit, or more than 100 kW) adds nothing to that interval.
 * Where no device can be read the sample has no `energy` key and `report` estimates from
 * utilisation instead, saying so.
 */
import type { EnergySample, GpuSample } from "../../base/sample.ts";
import { type EnergyCounter, energyCounterOf } from "../gpu/energy_counter.ts";
import { counterDelta, validWatts } from "../../base/integrate.ts";
import { discoverHwmon, type HwmonDevice, readMicro } from "./hwmon.ts";
import { discoverRapl, type RaplZone, readZone } from "./rapl.ts";

export type { EnergySample };

export interface EnergyMeterOptions {
  sys: string;
  warn: (line: string) => void;
  /** Power readings further apart than this are not bridged (s). */
  maxGapSecs: number;
}

export class EnergyMeter {
  readonly #zones: RaplZone[];
  readonly #hwmon: HwmonDevice[];
  readonly #o: EnergyMeterOptions;
  readonly #prevCounter = new Map<string, number>();
  readonly #prevWatts = new Map<string, number>();
  readonly #prevGpuCounter = new Map<string, EnergyCounter>();
  readonly #denied = new Set<string>();
  #warnedPermission = false;
  readonly #totals: Record<string, number> = {};

  constructor(o: EnergyMeterOptions) {
    this.#o = o;
    this.#zones = discoverRapl(o.sys);
    this.#hwmon = discoverHwmon(o.sys);
  }

  /** Joules per device over every read so far (this run). */
  get totals(): Readonly<Record<string, number>> {
    return this.#totals;
  }

  /** Names of the devices that can be counted (GPUs from samples are added as they appear). */
  get domains(): string[] {
    return [
      ...this.#zones.filter((z) => !this.#denied.has(z.name)).map((z) => `rapl:${z.name}`),
      ...this.#hwmon.map((h) => `hwmon:${h.name}`),
    ];
  }

  #counter(key: string, cur: number | null, rangeUj: number | null, secs: number): number | null {
    if (cur === null) return null;
    const prev = this.#prevCounter.get(key);
    this.#prevCounter.set(key, cur);
    if (prev === undefined || secs <= 0) return null;
    const d = counterDelta(prev, cur, rangeUj);
    if (d === null) return null;
    const j = d / 1e6;
    return validWatts(j / secs) ? j : null;
  }

  #power(key: string, watts: number | null, secs: number): number | null {
    const prev = this.#prevWatts.get(key);
    if (watts === null || !validWatts(watts)) {
      this.#prevWatts.delete(key);
      return null;
    }
    this.#prevWatts.set(key, watts);
    if (prev === undefined || secs <= 0 || secs > this.#o.maxGapSecs) return null;
    return (prev + watts) / 2 * secs;
  }

  /**
   * Joules from a GPU's energy counter since its previous reading; "fallback" where power × time
   * must stand in (no counter, no baseline, counter went back); null where nothing counts (a
   * stale reading, or an impossible delta).
   */
  #gpuCounter(key: string, cur: EnergyCounter | undefined): number | null | "fallback" {
    const prev = this.#prevGpuCounter.get(key);
    if (cur === undefined) {
      this.#prevGpuCounter.delete(key);
      return "fallback";
    }
    if (prev !== undefined && cur.atMs === prev.atMs && cur.mj === prev.mj) return null;
    this.#prevGpuCounter.set(key, cur);
    if (prev === undefined || cur.mj < prev.mj) return "fallback";
    const j = (cur.mj - prev.mj) / 1000;
    const secs = (cur.atMs - prev.atMs) / 1000;
    return secs > 0 && validWatts(j / secs) ? j : null;
  }

  /** Energy over the last `secs` seconds; null when no device was counted. */
  read(secs: number, gpus: readonly GpuSample[] = []): EnergySample | null {
    const devices: Record<string, number> = {};
    let counted = false;
    for (const z of this.#zones) {
      if (this.#denied.has(z.name)) continue;
      const r = readZone(z);
      if ("error" in r) {
        if (r.error === "permission") {
          this.#denied.add(z.name);
          if (!this.#warnedPermission) {
            this.#warnedPermission = true;
            this.#o.warn(
              `RAPL energy counters are not readable (permission denied on ${z.energyPath}); CPU energy will be estimated; run as root or make energy_uj readable`,
            );
          }
        }
        continue;
      }
      counted = true;
      const j = this.#counter(z.name, r.uj, z.rangeUj, secs);
      if (j !== null) devices[`rapl:${z.name}`] = j;
    }
    for (const h of this.#hwmon) {
      counted = true;
      const j = h.energyPath
        ? this.#counter(h.name, readMicro(h.energyPath), null, secs)
        : this.#power(h.name, scale(readMicro(h.powerPath!), 1e-6), secs);
      if (j !== null) devices[`hwmon:${h.name}`] = j;
    }
    for (const g of gpus) {
      // amdgpu devices are counted through hwmon above (their detail carries `pci_bus`).
      if (this.#hwmon.length > 0 && "pci_bus" in g.detail) continue;
      counted = true;
      const key = `gpu:${g.uuid}`;
      // Power is tracked every interval so that it can stand in the moment the counter cannot.
      const byPower = this.#power(key, g.power_watts > 0 ? g.power_watts : null, secs);
      const byCounter = this.#gpuCounter(key, energyCounterOf(g));
      const j = byCounter === "fallback" ? byPower : byCounter;
      if (j !== null) devices[key] = j;
    }
    if (!counted) return null;
    for (const [k, j] of Object.entries(devices)) this.#totals[k] = (this.#totals[k] ?? 0) + j;
    const joules = Object.values(devices).reduce((a, b) => a + b, 0);
    return { joules, watts: secs > 0 ? joules / secs : 0, method: "measured", devices };
  }
}

const scale = (v: number | null, k: number) => (v === null ? null : v * k);

/** A meter when this host has something to count (RAPL, amdgpu hwmon, or GPUs), else null. */
export function detectEnergyMeter(o: EnergyMeterOptions, gpus: boolean): EnergyMeter | null {
  const m = new EnergyMeter(o);
  return m.domains.length > 0 || gpus ? m : null;
}
