/** AMD devices and per-process values (docs/COMPATIBILITY.md §3.14, AMD part), read synchronously. */
import type { GpuSample, Roots } from "../../base/sample.ts";
import { allPids, AmdProcessUsage } from "./amd_fdinfo.ts";
import { AmdNames, listAmdCards, readAmdCard, readRocmVersion } from "./amd_sysfs.ts";
import type { ProcessGpu } from "./process_gpu.ts";
import { MIB } from "../../base/units.ts";

export class AmdSource {
  #roots: Roots;
  #names: AmdNames;
  #rocm: string | undefined;
  #usage = new AmdProcessUsage();

  constructor(roots: Roots) {
    this.#roots = roots;
    this.#names = new AmdNames(roots);
    this.#rocm = readRocmVersion(roots);
  }

  /** Devices, and process values (null when no amdgpu card is present). */
  read(
    tree: ReadonlySet<number> | null,
    elapsedSecs: number,
  ): { devices: GpuSample[]; process: ProcessGpu | null } {
    const cards = listAmdCards(this.#roots);
    if (cards.length === 0) return { devices: [], process: null };
    const devices = cards.map((c) => readAmdCard(c, this.#names.name(c), this.#rocm));
    const known = new Set(cards.map((c) => c.pciBus));
    const all = tree === null;
    const pids = all ? allPids(this.#roots.proc) : tree;
    const r = this.#usage.measure(this.#roots.proc, pids, known, elapsedSecs);
    if (all) {
      // Host-wide: device counters, not fdinfo, for VRAM and "utilized".
      const used = devices.reduce((s, d) => s + d.vram_used_bytes, 0);
      return {
        devices,
        process: {
          usage: r.gfxPct / 100,
          vram_mib: used / MIB,
          utilized: devices.filter((d) => d.vram_used_bytes > 0).length,
        },
      };
    }
    return {
      devices,
      process: { usage: r.gfxPct / 100, vram_mib: r.vramBytes / MIB, utilized: r.pdevs.size },
    };
  }
}
