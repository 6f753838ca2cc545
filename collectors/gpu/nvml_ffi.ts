/**
 * NVML loaded at run time through Deno FFI. Every call is `nonblocking` (runs on a worker thread
 * and returns a promise) so that a hung driver cannot stall the sampler; see `nvml.ts`.
 */

const DEV = "usize" as const; // nvmlDevice_t, an opaque pointer passed back as an integer

export const NVML_SYMBOLS = {
  nvmlInit_v2: { parameters: [], result: "u32", nonblocking: true },
  nvmlShutdown: { parameters: [], result: "u32", nonblocking: true },
  nvmlSystemGetDriverVersion: { parameters: ["buffer", "u32"], result: "u32", nonblocking: true },
  nvmlDeviceGetCount_v2: { parameters: ["buffer"], result: "u32", nonblocking: true },
  nvmlDeviceGetHandleByIndex_v2: {
    parameters: ["u32", "buffer"],
    result: "u32",
    nonblocking: true,
  },
  nvmlDeviceGetName: { parameters: [DEV, "buffer", "u32"], result: "u32", nonblocking: true },
  nvmlDeviceGetUUID: { parameters: [DEV, "buffer", "u32"], result: "u32", nonblocking: true },
  nvmlDeviceGetPciInfo_v3: { parameters: [DEV, "buffer"], result: "u32", nonblocking: true },
  nvmlDeviceGetUtilizationRates: {
    parameters: [DEV, "buffer"],
    result: "u32",
    nonblocking: true,
  },
  nvmlDeviceGetMemoryInfo: { parameters: [DEV, "buffer"], result: "u32", nonblocking: true },
  nvmlDeviceGetTemperature: {
    parameters: [DEV, "u32", "buffer"],
    result: "u32",
    nonblocking: true,
  },
  nvmlDeviceGetPowerUsage: { parameters: [DEV, "buffer"], result: "u32", nonblocking: true },
  nvmlDeviceGetClockInfo: {
    parameters: [DEV, "u32", "buffer"],
    result: "u32",
    nonblocking: true,
  },
  // Drivers ≥ 510 (nvmlProcessInfo_v2_t); the unversioned v1 call is the fallback.
  nvmlDeviceGetComputeRunningProcesses_v3: {
    parameters: [DEV, "buffer", "buffer"],
    result: "u32",
    nonblocking: true,
    optional: true,
  },
  nvmlDeviceGetGraphicsRunningProcesses_v3: {
    parameters: [DEV, "buffer", "buffer"],
    result: "u32",
    nonblocking: true,
    optional: true,
  },
  nvmlDeviceGetComputeRunningProcesses: {
    parameters: [DEV, "buffer", "buffer"],
    result: "u32",
    nonblocking: true,
    optional: true,
  },
  nvmlDeviceGetGraphicsRunningProcesses: {
    parameters: [DEV, "buffer", "buffer"],
    result: "u32",
    nonblocking: true,
    optional: true,
  },
  nvmlDeviceGetProcessUtilization: {
    parameters: [DEV, "buffer", "buffer", "u64"],
    result: "u32",
    nonblocking: true,
    optional: true,
  },
} as const satisfies Deno.ForeignLibraryInterface;

type Ret = Promise<number>;
type ProcFn = (dev: bigint, count: Uint8Array, infos: Uint8Array | null) => Ret;

/** The part of NVML the collector uses; tests implement it with fakes that fill buffers. */
export interface NvmlSymbols {
  nvmlInit_v2(): Ret;
  nvmlShutdown(): Ret;
  nvmlSystemGetDriverVersion(buf: Uint8Array, len: number): Ret;
  nvmlDeviceGetCount_v2(count: Uint8Array): Ret;
  nvmlDeviceGetHandleByIndex_v2(index: number, handle: Uint8Array): Ret;
  nvmlDeviceGetName(dev: bigint, buf: Uint8Array, len: number): Ret;
  nvmlDeviceGetUUID(dev: bigint, buf: Uint8Array, len: number): Ret;
  nvmlDeviceGetPciInfo_v3(dev: bigint, pci: Uint8Array): Ret;
  nvmlDeviceGetUtilizationRates(dev: bigint, util: Uint8Array): Ret;
  nvmlDeviceGetMemoryInfo(dev: bigint, mem: Uint8Array): Ret;
  /** sensor 0 = NVML_TEMPERATURE_GPU; °C. */
  nvmlDeviceGetTemperature(dev: bigint, sensor: number, temp: Uint8Array): Ret;
  /** mW. */
  nvmlDeviceGetPowerUsage(dev: bigint, mw: Uint8Array): Ret;
  /** type 0 = NVML_CLOCK_GRAPHICS; MHz. */
  nvmlDeviceGetClockInfo(dev: bigint, type: number, mhz: Uint8Array): Ret;
  nvmlDeviceGetComputeRunningProcesses_v3: ProcFn | null;
  nvmlDeviceGetGraphicsRunningProcesses_v3: ProcFn | null;
  nvmlDeviceGetComputeRunningProcesses: ProcFn | null;
  nvmlDeviceGetGraphicsRunningProcesses: ProcFn | null;
  nvmlDeviceGetProcessUtilization:
    | ((dev: bigint, samples: Uint8Array | null, count: Uint8Array, lastSeen: bigint) => Ret)
    | null;
}

export interface NvmlLibrary {
  symbols: NvmlSymbols;
  close(): void;
}

/** Opens the library, or undefined when it is absent, unloadable or FFI is not permitted. */
export function openNvml(path: string): NvmlLibrary | undefined {
  try {
    const lib = Deno.dlopen(path, NVML_SYMBOLS);
    const symbols: NvmlSymbols = lib.symbols;
    return { symbols, close: () => lib.close() };
  } catch {
    return undefined;
  }
}
