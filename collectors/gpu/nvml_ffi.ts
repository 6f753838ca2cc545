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
  // Volta and newer; older GPUs answer NVML_ERROR_NOT_SUPPORTED, old drivers lack the symbol.
  nvmlDeviceGetTotalEnergyConsumption: {
    parameters: [DEV, "buffer"],
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
  /** `unsigned long long` mJ since the driver loaded. */
  nvmlDeviceGetTotalEnergyConsumption: ((dev: bigint, mj: Uint8Array) => Ret) | null;
}

export interface NvmlLibrary {
  symbols: NvmlSymbols;
  close(): void;
}

type Optional = {
  [K in keyof typeof NVML_SYMBOLS]: (typeof NVML_SYMBOLS)[K] extends { optional: true } ? K : never;
}[keyof typeof NVML_SYMBOLS];

const OPTIONAL = (Object.keys(NVML_SYMBOLS) as (keyof typeof NVML_SYMBOLS)[]).filter((k) =>
  "optional" in NVML_SYMBOLS[k]
) as Optional[];

/**
 * The optional symbols this library lacks. Deno (2.9.6) gives a missing optional *nonblocking*
 * symbol a function that throws when called instead of null, so they are looked up again as
 * plain blocking declarations (never called), for which a missing symbol is null.
 */
function missingOptional(path: string): Set<Optional> {
  const probe = Deno.dlopen(
    path,
    Object.fromEntries(
      OPTIONAL.map((k) => [k, { parameters: [], result: "void", optional: true }]),
    ) as Record<Optional, { parameters: []; result: "void"; optional: true }>,
  );
  try {
    return new Set(OPTIONAL.filter((k) => probe.symbols[k] === null));
  } finally {
    probe.close();
  }
}

/** Opens the library, or undefined when it is absent, unloadable or FFI is not permitted. */
export function openNvml(path: string): NvmlLibrary | undefined {
  try {
    const lib = Deno.dlopen(path, NVML_SYMBOLS);
    let missing: Set<Optional>;
    try {
      missing = missingOptional(path);
    } catch {
      lib.close();
      return undefined;
    }
    const symbols: NvmlSymbols = { ...lib.symbols };
    for (const k of missing) symbols[k] = null;
    return { symbols, close: () => lib.close() };
  } catch {
    return undefined;
  }
}
