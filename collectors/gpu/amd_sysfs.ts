/**
 * AMD GPUs through amdgpu sysfs (`<sys>/class/drm/cardN/device`): VRAM, busy percent, hwmon
 * sensors, `pp_dpm_sclk`, and the binary `gpu_metrics` when readable (preferred, docs/COMPATIBILITY.md §1.7).
 */
import type { GpuSample, Roots } from "../../base/sample.ts";
import { listDir, readAttr, readInt, readLinkBase, readText } from "../read.ts";
import { decodeGpuMetrics } from "./gpu_metrics.ts";
import { usedPct } from "./process_gpu.ts";
import { join } from "../../base/path.ts";

export interface AmdCard {
  /** `card0` … */
  card: string;
  /** `<sys>/class/drm/cardN/device`. */
  dir: string;
  /** PCI address, lower case (`0000:03:00.0`), as in fdinfo `drm-pdev:`. */
  pciBus: string;
}

/** amdgpu is loaded (`<sys>/module/amdgpu` exists). */
export function amdgpuLoaded(roots: Roots): boolean {
  try {
    return Deno.statSync(join(roots.sys, "module", "amdgpu")).isDirectory;
  } catch {
    return false;
  }
}

/** `PCI_SLOT_NAME=` of a device `uevent`. */
export function parsePciSlot(uevent: string): string | undefined {
  const m = /^PCI_SLOT_NAME=(\S+)$/m.exec(uevent);
  return m?.[1]?.toLowerCase();
}

/** Cards bound to amdgpu, in card-number order (connectors like `card0-DP-1` are skipped). */
export function listAmdCards(roots: Roots): AmdCard[] {
  const drm = join(roots.sys, "class", "drm");
  const cards: AmdCard[] = [];
  const names = listDir(drm).filter((n) => /^card\d+$/.test(n));
  names.sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)));
  for (const card of names) {
    const dir = join(drm, card, "device");
    const driver = readLinkBase(join(dir, "driver"));
    if (
      driver !== "amdgpu" && !(driver === undefined && readAttr(join(dir, "vendor")) === "0x1002")
    ) {
      continue;
    }
    if (readAttr(join(dir, "mem_info_vram_total")) === undefined) continue;
    const uevent = readText(join(dir, "uevent"));
    const pciBus = (uevent !== undefined ? parsePciSlot(uevent) : undefined) ??
      readLinkBase(dir)?.toLowerCase() ?? card;
    cards.push({ card, dir, pciBus });
  }
  return cards;
}

/** MHz of the active (`*`) line of `pp_dpm_sclk` (`1: 1200Mhz *`). */
export function parseDpmSclk(text: string): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.trimEnd().endsWith("*")) continue;
    const m = /^\s*\d+:\s*(\d+)\s*mhz/i.exec(line);
    const mhz = Number(m?.[1]);
    if (Number.isFinite(mhz)) return mhz;
  }
  return undefined;
}

/**
 * Device name from a pci.ids database text: the subsystem line when it matches, else the device
 * line. Ids are 4 lower-case hex digits without `0x`.
 */
export function lookupPciName(
  pciIds: string,
  vendor: string,
  device: string,
  subVendor?: string,
  subDevice?: string,
): string | undefined {
  const start = pciIds.search(new RegExp(`^${vendor}  `, "m"));
  if (start === -1) return undefined;
  let deviceName: string | undefined;
  const lines = pciIds.slice(start).split("\n");
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (line === "" || line.startsWith("#")) continue;
    if (!line.startsWith("\t")) break; // next vendor
    if (deviceName === undefined) {
      if (line.startsWith(`\t${device}  `)) deviceName = line.slice(device.length + 3).trim();
      continue;
    }
    if (!line.startsWith("\t\t")) break; // next device
    if (subVendor !== undefined && subDevice !== undefined) {
      const sub = line.slice(2);
      if (sub.startsWith(`${subVendor} ${subDevice}  `)) return sub.slice(11).trim();
    }
  }
  return deviceName;
}

function hexId(path: string): string | undefined {
  const v = readAttr(path)?.toLowerCase();
  return v !== undefined && /^0x[0-9a-f]{4}$/.test(v) ? v.slice(2) : undefined;
}

/** Name resolution, cached per card (pci.ids is read at most once per collector). */
export class AmdNames {
  #roots: Roots;
  #pciIds: string | null | undefined;
  #cache = new Map<string, string>();

  constructor(roots: Roots) {
    this.#roots = roots;
  }

  #ids(): string | null {
    if (this.#pciIds === undefined) {
      this.#pciIds = null;
      for (const p of ["usr/share/hwdata/pci.ids", "usr/share/misc/pci.ids"]) {
        const text = readText(join(this.#roots.root, p));
        if (text !== undefined) {
          this.#pciIds = text;
          break;
        }
      }
    }
    return this.#pciIds;
  }

  name(card: AmdCard): string {
    const cached = this.#cache.get(card.dir);
    if (cached !== undefined) return cached;
    let name = readAttr(join(card.dir, "product_name"));
    const device = hexId(join(card.dir, "device"));
    if (name === undefined && device !== undefined) {
      const ids = this.#ids();
      const found = ids === null ? undefined : lookupPciName(
        ids,
        "1002",
        device,
        hexId(join(card.dir, "subsystem_vendor")),
        hexId(join(card.dir, "subsystem_device")),
      );
      if (found !== undefined) name = found.startsWith("AMD") ? found : `AMD ${found}`;
    }
    name ??= device !== undefined ? `AMD GPU 0x${device}` : "AMD GPU";
    this.#cache.set(card.dir, name);
    return name;
  }
}

/** `<root>/opt/rocm/.info/version`, when ROCm is installed. */
export function readRocmVersion(roots: Roots): string | undefined {
  return readAttr(join(roots.root, "opt", "rocm", ".info", "version"));
}

function readBytes(path: string): Uint8Array | undefined {
  try {
    return Deno.readFileSync(path);
  } catch {
    return undefined;
  }
}

function firstHwmon(dir: string): string | undefined {
  const names = listDir(join(dir, "hwmon")).filter((n) => n.startsWith("hwmon")).sort();
  return names[0] === undefined ? undefined : join(dir, "hwmon", names[0]);
}

/** One card's sample. Missing sensors give 0, as for NVIDIA errors. */
export function readAmdCard(
  card: AmdCard,
  name: string,
  rocmVersion: string | undefined,
): GpuSample {
  const d = card.dir;
  const total = readInt(join(d, "mem_info_vram_total")) ?? 0;
  const used = readInt(join(d, "mem_info_vram_used")) ?? 0;
  const bytes = readBytes(join(d, "gpu_metrics"));
  const metrics = bytes === undefined ? undefined : decodeGpuMetrics(bytes);
  const hwmon = firstHwmon(d);
  const hw = (file: string) => hwmon === undefined ? undefined : readInt(join(hwmon, file));

  const util = metrics?.gfxActivityPct ?? readInt(join(d, "gpu_busy_percent")) ?? 0;
  // gpu_metrics edge is °C; hwmon temp1_input is m°C (values > 1000 are m°C, docs/COMPATIBILITY.md §1.7).
  let temp = metrics?.temperatureEdgeC ?? hw("temp1_input") ?? 0;
  if (temp > 1000) temp = temp / 1000;
  // hwmon power in µW: power1_average on older ASICs, power1_input on newer ones.
  const microwatts = hw("power1_average") ?? hw("power1_input");
  const power = metrics?.socketPowerW ?? (microwatts !== undefined ? microwatts / 1e6 : 0);
  const sclkText = readText(join(d, "pp_dpm_sclk"));
  const hz = hw("freq1_input");
  const mhz = metrics?.gfxclkMhz ?? (sclkText !== undefined ? parseDpmSclk(sclkText) : undefined) ??
    (hz !== undefined ? hz / 1e6 : 0);

  const detail: Record<string, string> = { pci_bus: card.pciBus };
  if (rocmVersion !== undefined) detail.rocm_version = rocmVersion;
  return {
    uuid: card.pciBus,
    name,
    device_type: "GPU",
    host_id: card.pciBus,
    detail,
    utilization_pct: util,
    vram_total_bytes: total,
    vram_used_bytes: used,
    vram_used_pct: usedPct(used, total),
    temperature_celsius: Math.trunc(temp),
    power_watts: power,
    frequency_mhz: Math.trunc(mhz),
    core_count: null,
  };
}
