/**
 * GPU collection: NVIDIA through NVML (FFI) or, when NVML cannot be loaded, `nvidia-smi`;
 * AMD through amdgpu sysfs and fdinfo. `read()` never waits: NVIDIA values come from the latest
 * completed background refresh, AMD values are read synchronously from small sysfs files.
 */
import type { GpuSample, Roots } from "../../base/sample.ts";
import { AmdSource } from "./amd.ts";
import { amdgpuLoaded } from "./amd_sysfs.ts";
import { attachEnergyCounter } from "./energy_counter.ts";
import { NvmlSource } from "./nvml.ts";
import { openNvml } from "./nvml_ffi.ts";
import { SmiSource } from "./nvidia_smi.ts";
import { addProcessGpu, nvidiaProcessGpu, type ProcessGpu, zeroProcessGpu } from "./process_gpu.ts";
import { errorText } from "../../base/errors.ts";
import { exists, join } from "../../base/path.ts";
import { settlesWithin } from "../../base/time.ts";
import { MIB } from "../../base/units.ts";

export type { ProcessGpu } from "./process_gpu.ts";

export interface GpuReading {
  /** NVIDIA first, then AMD. */
  devices: GpuSample[];
  /** Null when no GPU stack is present. */
  process: ProcessGpu | null;
}

export interface GpuOptions {
  roots: Roots;
  /** Command or path of nvidia-smi; default "nvidia-smi". */
  nvidiaSmi?: string;
  /** Default "libnvidia-ml.so.1". */
  nvmlPath?: string;
  disableNvml?: boolean;
  /** nvidia-smi hard timeout, default 2000 ms. */
  timeoutMs?: number;
  warn: (line: string) => void;
}

export interface GpuCollector {
  /** `tree` null (untracked) or empty: host-wide process values. Never waits. */
  read(tree: ReadonlySet<number> | null, elapsedSecs: number): GpuReading;
  /** Starts a background refresh if none runs and resolves when it is done. */
  refresh?(): Promise<void>;
  close(): Promise<void> | void;
}

export interface GpuHostFacts {
  host_gpu_model: string | null;
  host_gpu_count: number | null;
  host_gpu_memory_mib: number | null;
}

/** The NVIDIA kernel driver is loaded (also visible inside NVIDIA containers). */
export function nvidiaDriverLoaded(roots: Roots): boolean {
  return exists(join(roots.proc, "driver", "nvidia", "version")) ||
    exists(join(roots.sys, "module", "nvidia"));
}

class Collector implements GpuCollector {
  #opts: GpuOptions;
  #nvml: NvmlSource | null = null;
  #smi: SmiSource | null = null;
  #nvidiaDriver: boolean;
  #amd: AmdSource | null;
  #amdWarned = false;

  constructor(opts: GpuOptions) {
    this.#opts = opts;
    this.#nvidiaDriver = nvidiaDriverLoaded(opts.roots);
    if (opts.disableNvml !== true) {
      const lib = openNvml(opts.nvmlPath ?? "libnvidia-ml.so.1");
      if (lib !== undefined) {
        const timeout = opts.timeoutMs ?? 2000;
        this.#nvml = new NvmlSource(lib.symbols, {
          warn: opts.warn,
          hangMs: Math.max(10_000, 5 * timeout),
          initHangMs: 60_000,
          onClose: () => lib.close(),
        });
        this.#nvml.kick(); // nvmlInit can take seconds: start it now, in the background
      }
    }
    this.#amd = amdgpuLoaded(opts.roots) ? new AmdSource(opts.roots) : null;
  }

  /** NVML while it works or initialises; nvidia-smi only with evidence of the driver. */
  #nvidia(): NvmlSource | SmiSource | null {
    if (this.#nvml !== null && !this.#nvml.initFailed) return this.#nvml;
    if (!this.#nvidiaDriver) return null;
    this.#smi ??= new SmiSource({
      command: this.#opts.nvidiaSmi ?? "nvidia-smi",
      timeoutMs: this.#opts.timeoutMs ?? 2000,
      warn: this.#opts.warn,
    });
    return this.#smi;
  }

  read(tree: ReadonlySet<number> | null, elapsedSecs: number): GpuReading {
    const nv = this.#nvidia();
    nv?.kick();
    const snap = nv?.snapshot() ?? null;
    const devices: GpuSample[] = (snap?.devices ?? []).map((d) => {
      const sample = { ...d.sample, detail: { ...d.sample.detail } };
      // For the energy meter, beside the sample rather than in it (see energy_counter.ts).
      if (d.energy !== undefined) attachEnergyCounter(sample, d.energy);
      return sample;
    });
    let process: ProcessGpu | null = null;
    if (nv?.present) process = snap !== null ? nvidiaProcessGpu(snap, tree) : zeroProcessGpu();
    if (this.#amd !== null) {
      try {
        const amd = this.#amd.read(tree, elapsedSecs);
        devices.push(...amd.devices);
        if (amd.process !== null) {
          process = process === null ? amd.process : addProcessGpu(process, amd.process);
        }
      } catch (e) {
        // Read helpers swallow I/O errors; this is a bug or a vanished tree: stop, once.
        this.#amd = null;
        if (!this.#amdWarned) {
          this.#amdWarned = true;
          this.#opts.warn(
            `cannot read AMD GPUs: ${errorText(e)}; AMD GPU metrics are off for this run`,
          );
        }
      }
    }
    return { devices, process };
  }

  async refresh(): Promise<void> {
    const first = this.#nvidia();
    await first?.refresh();
    const next = this.#nvidia(); // NVML init may just have failed: fall back at once
    if (next !== first) await next?.refresh();
  }

  async close(): Promise<void> {
    await Promise.all([this.#nvml?.close(), this.#smi?.close()]);
  }
}

export function createGpuCollector(opts: GpuOptions): GpuCollector {
  return new Collector(opts);
}

/** Contract §3.15: facts from the initial GPU read. */
export function gpuHostFacts(devices: GpuSample[]): GpuHostFacts {
  if (devices.length === 0) {
    return { host_gpu_model: null, host_gpu_count: null, host_gpu_memory_mib: null };
  }
  return {
    host_gpu_model: devices[0]?.name ?? null,
    host_gpu_count: devices.length,
    host_gpu_memory_mib: devices.reduce((s, d) => s + Math.floor(d.vram_total_bytes / MIB), 0),
  };
}

/** Resolves when the first reading is available (or after maxMs); used once at start for host facts. */
export async function firstReading(c: GpuCollector, maxMs: number): Promise<GpuReading> {
  if (c.refresh !== undefined) await settlesWithin(c.refresh(), maxMs);
  // elapsedSecs 0: a peek that does not advance AMD's per-client GFX counters.
  return c.read(null, 0);
}
