/**
 * What `nvidia-smi` is asked and how its answers are read: pure parsers for its CSV and `pmon`
 * output (fuzzed in tests/fuzz_test.ts) and the join of the three into an `NvidiaSnapshot`.
 */
import type { GpuSample } from "../../base/sample.ts";
import { MIB } from "../../base/units.ts";
import { type NvidiaSnapshot, usedPct } from "./process_gpu.ts";

export const QUERY_GPU_FIELDS =
  "index,uuid,name,utilization.gpu,memory.total,memory.used,temperature.gpu,power.draw,clocks.gr,driver_version,pci.bus_id";
export const QUERY_GPU_ARGS = [`--query-gpu=${QUERY_GPU_FIELDS}`, "--format=csv,noheader,nounits"];
export const QUERY_APPS_ARGS = [
  "--query-compute-apps=pid,gpu_uuid,used_memory",
  "--format=csv,noheader,nounits",
];
/** One utilisation sample (`-s u`): columns gpu, pid, type, sm, mem, enc, dec, … command. */
export const PMON_ARGS = ["pmon", "-c", "1", "-s", "u"];

/** `[N/A]`, `[Not Supported]`, `N/A`, `-`, empty: no value. */
function missing(field: string): boolean {
  return field === "" || field === "-" || field.startsWith("[") || field === "N/A";
}

function num(field: string | undefined): number | undefined {
  if (field === undefined || missing(field)) return undefined;
  if (!/^-?\d+(\.\d+)?$/.test(field)) return undefined;
  const n = Number(field);
  return Number.isFinite(n) ? n : undefined;
}

function text(field: string | undefined): string | undefined {
  return field === undefined || missing(field) ? undefined : field;
}

/** Lines of `--query-gpu` output as samples; malformed lines are skipped. */
export function parseQueryGpu(out: string): GpuSample[] {
  const devices: GpuSample[] = [];
  for (const line of out.split("\n")) {
    const f = line.split(",").map((s) => s.trim());
    if (f.length !== 11) continue;
    const [index, uuid, name, util, total, used, temp, power, clock, driver, bus] = f;
    if (index === undefined || !/^\d+$/.test(index)) continue;
    const detail: Record<string, string> = {};
    const driverVersion = text(driver);
    const busId = text(bus);
    if (driverVersion !== undefined) detail.driver_version = driverVersion;
    if (busId !== undefined) detail.pci_bus_id = busId;
    const totalBytes = Math.trunc((num(total) ?? 0) * MIB);
    const usedBytes = Math.trunc((num(used) ?? 0) * MIB);
    devices.push({
      uuid: text(uuid) ?? `nvidia-${index}`,
      name: text(name) ?? "NVIDIA GPU",
      device_type: "GPU",
      host_id: index,
      detail,
      utilization_pct: num(util) ?? 0,
      vram_total_bytes: totalBytes,
      vram_used_bytes: usedBytes,
      vram_used_pct: usedPct(usedBytes, totalBytes),
      temperature_celsius: Math.trunc(num(temp) ?? 0),
      power_watts: num(power) ?? 0,
      frequency_mhz: Math.trunc(num(clock) ?? 0),
      core_count: null,
    });
  }
  return devices;
}

export interface SmiApp {
  pid: number;
  uuid: string;
  /** Bytes, null when nvidia-smi prints `[N/A]` (no permission, some containers). */
  usedBytes: number | null;
}

/** Lines of `--query-compute-apps=pid,gpu_uuid,used_memory` output. */
export function parseComputeApps(out: string): SmiApp[] {
  const apps: SmiApp[] = [];
  for (const line of out.split("\n")) {
    const f = line.split(",").map((s) => s.trim());
    if (f.length !== 3) continue;
    const [pid, uuid, used] = f;
    if (pid === undefined || !/^\d+$/.test(pid) || uuid === undefined || missing(uuid)) continue;
    if (!Number.isSafeInteger(Number(pid))) continue;
    const mib = num(used);
    apps.push({ pid: Number(pid), uuid, usedBytes: mib === undefined ? null : mib * MIB });
  }
  return apps;
}

export interface PmonRow {
  gpu: number;
  pid: number;
  sm: number;
}

/** `pmon -s u` rows with a numeric SM percent; header (`#`) and idle (`-`) rows are skipped. */
export function parsePmon(out: string): PmonRow[] {
  const rows: PmonRow[] = [];
  for (const line of out.split("\n")) {
    if (line.trimStart().startsWith("#")) continue;
    const f = line.trim().split(/\s+/);
    const [gpu, pid, , sm] = f;
    if (gpu === undefined || pid === undefined || sm === undefined) continue;
    if (!/^\d+$/.test(gpu) || !/^\d+$/.test(pid) || !/^\d+(\.\d+)?$/.test(sm)) continue;
    const row = { gpu: Number(gpu), pid: Number(pid), sm: Number(sm) };
    if (Number.isSafeInteger(row.gpu) && Number.isSafeInteger(row.pid) && Number.isFinite(row.sm)) {
      rows.push(row);
    }
  }
  return rows;
}

/** Joins the three outputs: apps by GPU UUID, pmon rows by GPU index. */
export function smiSnapshot(
  devices: GpuSample[],
  apps: SmiApp[],
  pmon: PmonRow[],
): NvidiaSnapshot {
  return {
    devices: devices.map((sample) => {
      const byPid = new Map<number, number | null>();
      for (const a of apps) {
        if (a.uuid !== sample.uuid) continue;
        const prev = byPid.get(a.pid);
        if (prev === undefined || prev === null) byPid.set(a.pid, a.usedBytes);
        else if (a.usedBytes !== null) byPid.set(a.pid, prev + a.usedBytes);
      }
      const sm = new Map<number, number>();
      for (const r of pmon) if (String(r.gpu) === sample.host_id) sm.set(r.pid, r.sm);
      return {
        sample,
        processes: [...byPid].map(([pid, usedBytes]) => ({ pid, usedBytes })),
        sm,
      };
    }),
  };
}
