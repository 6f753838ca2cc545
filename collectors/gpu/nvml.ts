/**
 * NVIDIA through NVML: one-time init (static facts per device) and a per-refresh query that
 * yields an `NvidiaSnapshot`. `NvmlSource` runs refreshes in the background so `read()` never
 * waits on the driver; a refresh that does not finish within `hangMs` marks NVML as hung.
 */
import type { GpuSample } from "../../base/sample.ts";
import type { NvmlSymbols } from "./nvml_ffi.ts";
import {
  decodeCString,
  decodeHandle,
  decodeMemory,
  decodePciBusId,
  decodeProcessInfos,
  decodeU32,
  decodeU64,
  decodeUtilization,
  decodeUtilSamples,
  DRIVER_VERSION_BUFFER_SIZE,
  latestSmByPid,
  MEMORY_SIZE,
  NAME_BUFFER_SIZE,
  NVML_ERROR_INSUFFICIENT_SIZE,
  NVML_ERROR_NOT_SUPPORTED,
  NVML_SUCCESS,
  type NvmlProcess,
  PCI_INFO_SIZE,
  PROCESS_INFO_SIZE,
  UTIL_SAMPLE_SIZE,
  UTILIZATION_SIZE,
} from "./nvml_decode.ts";
import { mergeProcesses, type NvidiaDevice, type NvidiaSnapshot, usedPct } from "./process_gpu.ts";
import { errorText } from "../../base/errors.ts";
import { Refresher } from "./refresher.ts";

/** `nvmlProcessInfo_v1_t` (pid, usedGpuMemory) taken by the unversioned calls. */
const PROCESS_INFO_V1_SIZE = 16;
const MAX_GROW_ATTEMPTS = 5;

export interface NvmlDeviceInfo {
  index: number;
  handle: bigint;
  name: string;
  uuid: string;
  busId: string | undefined;
  /** The total-energy counter answered at init (not NOT_SUPPORTED, symbol present). */
  energyCounter: boolean;
}

export interface NvmlSession {
  driverVersion: string | undefined;
  devices: NvmlDeviceInfo[];
}

export class NvmlError extends Error {}

function u32Buf(value = 0): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, value, true);
  return b;
}

async function str(
  call: (buf: Uint8Array, len: number) => Promise<number>,
  size: number,
): Promise<string | undefined> {
  const buf = new Uint8Array(size);
  if (await call(buf, size) !== NVML_SUCCESS) return undefined;
  const s = decodeCString(buf);
  return s === "" ? undefined : s;
}

/** nvmlInit plus the facts that do not change during a run. Throws NvmlError on failure. */
export async function nvmlOpenSession(sym: NvmlSymbols): Promise<NvmlSession> {
  const ret = await sym.nvmlInit_v2();
  if (ret !== NVML_SUCCESS) throw new NvmlError(`nvmlInit failed with error ${ret}`);
  const driverVersion = await str(
    (b, n) => sym.nvmlSystemGetDriverVersion(b, n),
    DRIVER_VERSION_BUFFER_SIZE,
  );
  const countBuf = u32Buf();
  const cret = await sym.nvmlDeviceGetCount_v2(countBuf);
  if (cret !== NVML_SUCCESS) {
    await sym.nvmlShutdown();
    throw new NvmlError(`nvmlDeviceGetCount failed with error ${cret}`);
  }
  const count = decodeU32(countBuf) ?? 0;
  const devices: NvmlDeviceInfo[] = [];
  for (let index = 0; index < count; index++) {
    const hbuf = new Uint8Array(8);
    if (await sym.nvmlDeviceGetHandleByIndex_v2(index, hbuf) !== NVML_SUCCESS) continue;
    const handle = decodeHandle(hbuf);
    if (handle === undefined) continue;
    const name = await str((b, n) => sym.nvmlDeviceGetName(handle, b, n), NAME_BUFFER_SIZE);
    const uuid = await str((b, n) => sym.nvmlDeviceGetUUID(handle, b, n), NAME_BUFFER_SIZE);
    const pci = new Uint8Array(PCI_INFO_SIZE);
    const busId = await sym.nvmlDeviceGetPciInfo_v3(handle, pci) === NVML_SUCCESS
      ? decodePciBusId(pci)
      : undefined;
    devices.push({
      index,
      handle,
      name: name ?? "NVIDIA GPU",
      uuid: uuid ?? `nvidia-${index}`,
      busId,
      energyCounter: await totalEnergyMj(sym, handle) !== NVML_ERROR_NOT_SUPPORTED,
    });
  }
  return { driverVersion, devices };
}

/**
 * Calls an NVML "fill this array" function, growing the buffer while it answers
 * NVML_ERROR_INSUFFICIENT_SIZE (the set of processes can change between calls).
 */
export async function growingCall(
  call: (count: Uint8Array, buf: Uint8Array | null) => Promise<number>,
  stride: number,
): Promise<{ buf: Uint8Array; count: number } | undefined> {
  let capacity = 0;
  for (let attempt = 0; attempt < MAX_GROW_ATTEMPTS; attempt++) {
    const countBuf = u32Buf(capacity);
    const buf = capacity > 0 ? new Uint8Array(capacity * stride) : null;
    const ret = await call(countBuf, buf);
    const count = decodeU32(countBuf) ?? 0;
    if (ret === NVML_SUCCESS) {
      return { buf: buf ?? new Uint8Array(0), count: Math.min(count, capacity) };
    }
    if (ret !== NVML_ERROR_INSUFFICIENT_SIZE) return undefined;
    capacity = Math.max(count, capacity) + 8 + capacity;
  }
  return undefined;
}

async function runningProcesses(
  sym: NvmlSymbols,
  dev: bigint,
  kind: "Compute" | "Graphics",
): Promise<NvmlProcess[]> {
  const v3 = sym[`nvmlDeviceGet${kind}RunningProcesses_v3`];
  const v1 = sym[`nvmlDeviceGet${kind}RunningProcesses`];
  const fn = v3 ?? v1;
  if (fn === null) return [];
  const stride = v3 !== null ? PROCESS_INFO_SIZE : PROCESS_INFO_V1_SIZE;
  const got = await growingCall((count, buf) => fn(dev, count, buf), stride);
  return got === undefined ? [] : decodeProcessInfos(got.buf, got.count, stride);
}

async function smSamples(sym: NvmlSymbols, dev: bigint): Promise<Map<number, number>> {
  const fn = sym.nvmlDeviceGetProcessUtilization;
  if (fn === null) return new Map();
  // lastSeenTimeStamp 0: every sample NVML still holds; the latest per PID is kept.
  const got = await growingCall((count, buf) => fn(dev, buf, count, 0n), UTIL_SAMPLE_SIZE);
  return got === undefined ? new Map() : latestSmByPid(decodeUtilSamples(got.buf, got.count));
}

/**
 * `{ mj }`: the device's energy counter (mJ since the driver loaded); else the NVML error code,
 * NOT_SUPPORTED for pre-Volta GPUs and also when the driver lacks the symbol.
 */
async function totalEnergyMj(sym: NvmlSymbols, dev: bigint): Promise<number | { mj: number }> {
  const fn = sym.nvmlDeviceGetTotalEnergyConsumption;
  if (fn === null) return NVML_ERROR_NOT_SUPPORTED;
  const out = new Uint8Array(8);
  const ret = await fn(dev, out);
  const mj = decodeU64(out);
  return ret === NVML_SUCCESS && mj !== undefined ? { mj } : ret;
}

async function u32Call(call: (out: Uint8Array) => Promise<number>): Promise<number | undefined> {
  const out = u32Buf();
  return await call(out) === NVML_SUCCESS ? decodeU32(out) : undefined;
}

/**
 * One pass over every device; per-field errors give 0 (docs/COMPATIBILITY.md §1.7). The energy counter is not
 * a sample field: it rides on `NvidiaDevice.energy` (see energy_counter.ts), absent on error.
 */
export async function nvmlQuery(
  sym: NvmlSymbols,
  session: NvmlSession,
  now: () => number = () => performance.now(),
): Promise<{ snapshot: NvidiaSnapshot; errors: string[] }> {
  const errors: string[] = [];
  const devices: NvidiaDevice[] = [];
  for (const d of session.devices) {
    const h = d.handle;
    const ubuf = new Uint8Array(UTILIZATION_SIZE);
    const uret = await sym.nvmlDeviceGetUtilizationRates(h, ubuf);
    const util = uret === NVML_SUCCESS ? decodeUtilization(ubuf) : undefined;
    const mbuf = new Uint8Array(MEMORY_SIZE);
    const mret = await sym.nvmlDeviceGetMemoryInfo(h, mbuf);
    const mem = mret === NVML_SUCCESS ? decodeMemory(mbuf) : undefined;
    if (mret !== NVML_SUCCESS) errors.push(`GPU ${d.index} memory info: error ${mret}`);
    const temp = await u32Call((o) => sym.nvmlDeviceGetTemperature(h, 0, o));
    const mw = await u32Call((o) => sym.nvmlDeviceGetPowerUsage(h, o));
    const mhz = await u32Call((o) => sym.nvmlDeviceGetClockInfo(h, 0, o));
    const energy = d.energyCounter ? await totalEnergyMj(sym, h) : undefined;
    const atMs = now();
    const processes = mergeProcesses([
      await runningProcesses(sym, h, "Compute"),
      await runningProcesses(sym, h, "Graphics"),
    ]);
    const sm = await smSamples(sym, h);
    const detail: Record<string, string> = {};
    if (session.driverVersion !== undefined) detail.driver_version = session.driverVersion;
    if (d.busId !== undefined) detail.pci_bus_id = d.busId;
    const total = mem?.total ?? 0;
    const used = mem?.used ?? 0;
    const sample: GpuSample = {
      uuid: d.uuid,
      name: d.name,
      device_type: "GPU",
      host_id: String(d.index),
      detail,
      utilization_pct: util?.gpu ?? 0,
      vram_total_bytes: total,
      vram_used_bytes: used,
      vram_used_pct: usedPct(used, total),
      temperature_celsius: temp ?? 0,
      power_watts: (mw ?? 0) / 1000,
      frequency_mhz: mhz ?? 0,
      core_count: null,
    };
    devices.push({
      sample,
      processes,
      sm,
      ...(typeof energy === "object" ? { energy: { mj: energy.mj, atMs } } : {}),
    });
  }
  return { snapshot: { devices }, errors };
}

export interface NvmlSourceOptions {
  warn: (line: string) => void;
  /** A refresh still running after this long means the driver hangs. */
  hangMs: number;
  /** The same for `nvmlInit` + device discovery (slow without persistence mode). */
  initHangMs?: number;
  /** How long `close()` waits for a refresh in flight (default 2000 ms). */
  closeWaitMs?: number;
  /** Monotonic milliseconds; injectable for tests. */
  now?: () => number;
  /** Consecutive failed refreshes before NVML is given up. */
  maxFailures?: number;
  /** Called once when the library can be unloaded (not after a hang). */
  onClose?: () => void;
}

/** Background NVML refreshes; `kick()` never waits, `snapshot()` is the latest completed pass. */
export class NvmlSource {
  #sym: NvmlSymbols;
  #opts: NvmlSourceOptions;
  #now: () => number;
  #refresher: Refresher;
  #session: NvmlSession | undefined;
  #snapshot: NvidiaSnapshot | null = null;
  #initFailed = false;
  #hung = false;

  constructor(sym: NvmlSymbols, opts: NvmlSourceOptions) {
    this.#sym = sym;
    this.#opts = opts;
    this.#now = opts.now ?? (() => performance.now());
    this.#refresher = new Refresher(() => this.#run(), { warn: opts.warn, now: this.#now });
  }

  /** NVML initialised at least once (the GPU stack is present, even with 0 devices). */
  get present(): boolean {
    return this.#session !== undefined;
  }

  /** Init is done or failed: `initFailed` tells the caller to try nvidia-smi instead. */
  get initFailed(): boolean {
    return this.#initFailed;
  }

  snapshot(): NvidiaSnapshot | null {
    return this.#snapshot;
  }

  /** Starts a refresh unless one is running; notices a refresh that hangs. */
  kick(): void {
    const r = this.#refresher;
    const busy = r.busyMs();
    if (r.active && busy !== undefined) {
      const limit = this.#session === undefined
        ? (this.#opts.initHangMs ?? this.#opts.hangMs)
        : this.#opts.hangMs;
      if (busy > limit) {
        this.#hung = true;
        this.#snapshot = null;
        r.giveUp(`NVML did not answer within ${limit} ms`);
      }
      return;
    }
    r.kick();
  }

  /** Kicks and waits for the refresh in flight (if any). */
  async refresh(): Promise<void> {
    this.kick();
    await this.#refresher.refresh();
  }

  async #run(): Promise<void> {
    const r = this.#refresher;
    try {
      if (this.#session === undefined) {
        try {
          this.#session = await nvmlOpenSession(this.#sym);
        } catch {
          // No driver or no permission: "no data", the caller may fall back to nvidia-smi.
          if (r.active) {
            this.#initFailed = true;
            r.giveUp();
          }
          return;
        }
        if (!r.active) return; // closed or hung meanwhile
      }
      const { snapshot, errors } = await nvmlQuery(this.#sym, this.#session, this.#now);
      if (!r.active) return;
      this.#snapshot = snapshot;
      r.succeeded();
      if (errors.length > 0) r.warnOnce(`NVML query failed: ${errors[0]}`);
    } catch (e) {
      if (!r.active) return;
      const failures = r.failed();
      if (failures >= (this.#opts.maxFailures ?? 3)) {
        this.#snapshot = null;
        r.giveUp(`NVML failed ${failures} times in a row (${errorText(e)})`);
      }
    }
  }

  async close(): Promise<void> {
    const hung = this.#hung;
    // A thread stuck inside the library: do not wait for it, and do not unload the library.
    const settled = await this.#refresher.close(hung ? 0 : this.#opts.closeWaitMs ?? 2000);
    if (hung) return;
    if (!settled) {
      this.#hung = true;
      return;
    }
    if (this.#session !== undefined && !this.#initFailed) {
      try {
        await this.#sym.nvmlShutdown();
      } catch { /* closing anyway */ }
    }
    this.#opts.onClose?.();
  }
}
