/**
 * Pure decoding of NVML structs from the bytes NVML wrote into our buffers (x86_64 / aarch64
 * Linux ABI: natural alignment, little-endian). Layouts from nvml.h; sizes are checked in tests.
 */

export const NVML_SUCCESS = 0;
export const NVML_ERROR_NOT_SUPPORTED = 3;
export const NVML_ERROR_INSUFFICIENT_SIZE = 7;

/** `NVML_VALUE_NOT_AVAILABLE` as an unsigned long long. */
export const NVML_VALUE_NOT_AVAILABLE = 0xFFFF_FFFF_FFFF_FFFFn;

/** `NVML_DEVICE_NAME_V2_BUFFER_SIZE`, `NVML_DEVICE_UUID_V2_BUFFER_SIZE`. */
export const NAME_BUFFER_SIZE = 96;
/** `NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE`. */
export const DRIVER_VERSION_BUFFER_SIZE = 80;

/** `nvmlMemory_t`: unsigned long long total, free, used. */
export const MEMORY_SIZE = 24;
/** `nvmlUtilization_t`: unsigned int gpu, memory. */
export const UTILIZATION_SIZE = 8;
/**
 * `nvmlPciInfo_t`: char busIdLegacy[16]; unsigned int domain, bus, device, pciDeviceId,
 * pciSubSystemId; char busId[32].
 */
export const PCI_INFO_SIZE = 68;
const PCI_BUS_ID_OFFSET = 36;
/**
 * `nvmlProcessInfo_v2_t` (what the `_v3` running-process calls fill): unsigned int pid; (pad);
 * unsigned long long usedGpuMemory; unsigned int gpuInstanceId, computeInstanceId.
 */
export const PROCESS_INFO_SIZE = 24;
/**
 * `nvmlProcessUtilizationSample_t`: unsigned int pid; (pad); unsigned long long timeStamp (µs);
 * unsigned int smUtil, memUtil, encUtil, decUtil.
 */
export const UTIL_SAMPLE_SIZE = 32;

export interface NvmlProcess {
  pid: number;
  /** Bytes, or null when NVML reports `NVML_VALUE_NOT_AVAILABLE`. */
  usedBytes: number | null;
}

export interface NvmlUtilSample {
  pid: number;
  timeStamp: bigint;
  smUtil: number;
}

function view(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** A NUL-terminated C string in a fixed buffer; invalid UTF-8 is replaced, not thrown. */
export function decodeCString(buf: Uint8Array): string {
  const end = buf.indexOf(0);
  return new TextDecoder().decode(end === -1 ? buf : buf.subarray(0, end)).trim();
}

/** The pointer NVML wrote into an 8-byte out-parameter (`nvmlDevice_t *`). */
export function decodeHandle(buf: Uint8Array): bigint | undefined {
  return buf.byteLength < 8 ? undefined : view(buf).getBigUint64(0, true);
}

/** An `unsigned int` out-parameter. */
export function decodeU32(buf: Uint8Array): number | undefined {
  return buf.byteLength < 4 ? undefined : view(buf).getUint32(0, true);
}

/** An `unsigned long long` out-parameter (exact below 2⁵³: 285 years of 1 kW in mJ). */
export function decodeU64(buf: Uint8Array): number | undefined {
  return buf.byteLength < 8 ? undefined : Number(view(buf).getBigUint64(0, true));
}

export function decodeMemory(
  buf: Uint8Array,
): { total: number; free: number; used: number } | undefined {
  if (buf.byteLength < MEMORY_SIZE) return undefined;
  const v = view(buf);
  return {
    total: Number(v.getBigUint64(0, true)),
    free: Number(v.getBigUint64(8, true)),
    used: Number(v.getBigUint64(16, true)),
  };
}

export function decodeUtilization(buf: Uint8Array): { gpu: number; memory: number } | undefined {
  if (buf.byteLength < UTILIZATION_SIZE) return undefined;
  const v = view(buf);
  return { gpu: v.getUint32(0, true), memory: v.getUint32(4, true) };
}

/** `busId` of `nvmlPciInfo_t` (e.g. `00000000:01:00.0`); undefined when empty. */
export function decodePciBusId(buf: Uint8Array): string | undefined {
  if (buf.byteLength < PCI_INFO_SIZE) return undefined;
  const id = decodeCString(buf.subarray(PCI_BUS_ID_OFFSET, PCI_INFO_SIZE));
  return id === "" ? undefined : id;
}

/**
 * The first `count` entries of an `nvmlProcessInfo_v2_t` array (clamped to the buffer). The
 * 16-byte `nvmlProcessInfo_v1_t` has the same first two fields, so `stride` 16 reads it too.
 */
export function decodeProcessInfos(
  buf: Uint8Array,
  count: number,
  stride = PROCESS_INFO_SIZE,
): NvmlProcess[] {
  const n = Math.min(count, Math.floor(buf.byteLength / stride));
  const v = view(buf);
  const out: NvmlProcess[] = [];
  for (let i = 0; i < n; i++) {
    const at = i * stride;
    const used = v.getBigUint64(at + 8, true);
    out.push({
      pid: v.getUint32(at, true),
      usedBytes: used === NVML_VALUE_NOT_AVAILABLE ? null : Number(used),
    });
  }
  return out;
}

/** The first `count` entries of an `nvmlProcessUtilizationSample_t` array. */
export function decodeUtilSamples(buf: Uint8Array, count: number): NvmlUtilSample[] {
  const n = Math.min(count, Math.floor(buf.byteLength / UTIL_SAMPLE_SIZE));
  const v = view(buf);
  const out: NvmlUtilSample[] = [];
  for (let i = 0; i < n; i++) {
    const at = i * UTIL_SAMPLE_SIZE;
    out.push({
      pid: v.getUint32(at, true),
      timeStamp: v.getBigUint64(at + 8, true),
      smUtil: v.getUint32(at + 16, true),
    });
  }
  return out;
}

/** Latest sample per PID (highest timestamp), as PID → SM percent (docs/COMPATIBILITY.md §3.14). */
export function latestSmByPid(samples: NvmlUtilSample[]): Map<number, number> {
  const best = new Map<number, NvmlUtilSample>();
  for (const s of samples) {
    const prev = best.get(s.pid);
    if (prev === undefined || s.timeStamp > prev.timeStamp) best.set(s.pid, s);
  }
  const out = new Map<number, number>();
  for (const [pid, s] of best) out.set(pid, s.smUtil);
  return out;
}
