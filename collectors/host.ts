/**
 * Host facts, collected once at start (docs/COMPATIBILITY.md §3.15, Sentinel wire names). Reading is in
 * `readHostInputs`; `deriveHost` is pure.
 */
import type { Roots } from "../base/sample.ts";
import { readDiskIdentity } from "./disk.ts";
import { parseMeminfo } from "./memory.ts";
import { listDir, readAttr, readInt, readText } from "./read.ts";

export interface HostInfo {
  host_id: string | null;
  host_hostname: string | null;
  host_ip: string | null;
  host_server_allocation: null;
  host_vcpus: number | null;
  host_cpu_model: string | null;
  host_memory_mib: number | null;
  host_gpu_model: string | null;
  host_gpu_count: number | null;
  host_gpu_memory_mib: number | null;
  host_storage_gb: number | null;
}

export interface HostInputs {
  boardAssetTag: string | undefined;
  machineId: string | undefined;
  hostname: string | undefined;
  ipv4: string[];
  cpuinfo: string;
  meminfo: string;
  /** Sizes in 512-byte sectors of whole physical block devices. */
  diskSectors: number[];
  gpu: {
    host_gpu_model: string | null;
    host_gpu_count: number | null;
    host_gpu_memory_mib: number | null;
  };
}

export function parseCpuinfo(text: string): { vcpus: number; model: string | null } {
  let vcpus = 0;
  let model: string | null = null;
  for (const line of text.split("\n")) {
    if (/^processor\s*:/.test(line)) vcpus++;
    else if (model === null && /^model name\s*:/.test(line)) {
      model = line.slice(line.indexOf(":") + 1).trim() || null;
    }
  }
  return { vcpus, model };
}

export function deriveHost(i: HostInputs): HostInfo {
  const tag = i.boardAssetTag?.trim();
  const cpu = parseCpuinfo(i.cpuinfo);
  const memKb = parseMeminfo(i.meminfo).get("MemTotal");
  const storage = i.diskSectors.reduce((a, b) => a + b, 0) * 512 / 1e9;
  return {
    host_id: tag && tag !== "Not Specified" ? tag : i.machineId?.trim() || null,
    host_hostname: i.hostname || null,
    host_ip: i.ipv4.find((a) => !a.startsWith("127.")) ?? null,
    host_server_allocation: null,
    host_vcpus: cpu.vcpus || null,
    host_cpu_model: cpu.model,
    host_memory_mib: memKb === undefined ? null : Math.floor(memKb / 1024),
    ...i.gpu,
    host_storage_gb: storage > 0 ? storage : null,
  };
}

const NO_GPU = { host_gpu_model: null, host_gpu_count: null, host_gpu_memory_mib: null };

export function readHostInputs(roots: Roots, gpu: HostInputs["gpu"] = NO_GPU): HostInputs {
  const root = roots.root.replace(/\/$/, "");
  let hostname: string | undefined;
  let ipv4: string[] = [];
  try {
    hostname = Deno.hostname();
  } catch { /* no permission */ }
  try {
    ipv4 = Deno.networkInterfaces().filter((n) => n.family === "IPv4").map((n) => n.address);
  } catch { /* no permission */ }
  const diskSectors: number[] = [];
  for (const dev of listDir(`${roots.sys}/block`)) {
    if (dev.startsWith("loop") || dev.startsWith("ram")) continue;
    // Physical devices only: dm/md/zram would count the same bytes twice (or RAM as disk).
    if (readDiskIdentity(roots.sys, dev).virtual) continue;
    const size = readInt(`${roots.sys}/block/${dev}/size`);
    if (size) diskSectors.push(size);
  }
  return {
    boardAssetTag: readAttr(`${roots.sys}/class/dmi/id/board_asset_tag`),
    machineId: readAttr(`${root}/etc/machine-id`),
    hostname,
    ipv4,
    cpuinfo: readText(`${roots.proc}/cpuinfo`) ?? "",
    meminfo: readText(`${roots.proc}/meminfo`) ?? "",
    diskSectors,
    gpu,
  };
}
