/**
 * Per-process amdgpu usage from `/proc/<pid>/fdinfo/<fd>` (DRM client usage stats, kernel
 * Documentation/gpu/drm-usage-stats.rst): one DRM client may sit behind several fds and
 * processes, so clients are de-duplicated by `drm-pdev` + `drm-client-id`.
 */
import { listDir, readText } from "../read.ts";
import { join } from "../../base/path.ts";

export interface DrmClient {
  driver: string;
  /** Lower-case PCI address (`drm-pdev:`). */
  pdev?: string;
  clientId?: string;
  /** Cumulative GFX engine busy time, ns (`drm-engine-gfx:`). */
  gfxNs?: number;
  /** VRAM held, bytes (`drm-memory-vram:`, else `drm-resident-vram:`/`drm-total-vram:`). */
  vramBytes?: number;
}

const UNITS: Record<string, number> = { "": 1, KiB: 1024, MiB: 1024 * 1024, GiB: 1024 ** 3 };

/** `N [KiB|MiB|GiB]` as bytes. */
export function parseSize(value: string): number | undefined {
  const m = /^(\d+)\s*(KiB|MiB|GiB)?$/.exec(value.trim());
  if (m?.[1] === undefined) return undefined;
  const unit = UNITS[m[2] ?? ""];
  const bytes = unit === undefined ? NaN : Number(m[1]) * unit;
  return Number.isFinite(bytes) ? bytes : undefined;
}

/** The DRM client in one fdinfo file; undefined when it is not a DRM fd. */
export function parseFdinfo(text: string): DrmClient | undefined {
  const kv = new Map<string, string>();
  for (const line of text.split("\n")) {
    const i = line.indexOf(":");
    if (i <= 0) continue;
    kv.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  const driver = kv.get("drm-driver");
  if (driver === undefined || driver === "") return undefined;
  const client: DrmClient = { driver };
  const pdev = kv.get("drm-pdev");
  if (pdev) client.pdev = pdev.toLowerCase();
  const id = kv.get("drm-client-id");
  if (id) client.clientId = id;
  const gfx = /^(\d+)\s*ns$/.exec(kv.get("drm-engine-gfx") ?? "");
  const gfxNs = Number(gfx?.[1]);
  if (Number.isFinite(gfxNs)) client.gfxNs = gfxNs;
  for (const key of ["drm-memory-vram", "drm-resident-vram", "drm-total-vram"]) {
    const v = kv.get(key);
    const bytes = v === undefined ? undefined : parseSize(v);
    if (bytes !== undefined) {
      client.vramBytes = bytes;
      break;
    }
  }
  return client;
}

/**
 * amdgpu clients of one process, keyed for de-duplication. An fd whose link does not point
 * into /dev/dri is skipped without reading its fdinfo (cheap on hosts with many fds).
 */
export function readPidClients(proc: string, pid: number): Map<string, DrmClient> {
  const out = new Map<string, DrmClient>();
  const base = join(proc, String(pid));
  for (const fd of listDir(join(base, "fdinfo"))) {
    let target: string | undefined;
    try {
      target = Deno.readLinkSync(join(base, "fd", fd));
    } catch { /* unreadable link: decide from fdinfo */ }
    if (target !== undefined && !target.startsWith("/dev/dri/")) continue;
    const text = readText(join(base, "fdinfo", fd));
    if (text === undefined) continue;
    const client = parseFdinfo(text);
    if (client === undefined || !client.driver.includes("amdgpu")) continue;
    const key = client.clientId !== undefined
      ? `${client.pdev ?? ""}#${client.clientId}`
      : `${pid}/${fd}`;
    if (!out.has(key)) out.set(key, client);
  }
  return out;
}

/** Numeric entries of `<proc>`. */
export function allPids(proc: string): number[] {
  return listDir(proc).filter((n) => /^\d+$/.test(n)).map(Number);
}

export interface AmdProcessReading {
  /** Σ GFX busy percent over the clients. */
  gfxPct: number;
  /** Σ client VRAM, bytes. */
  vramBytes: number;
  /** Known AMD devices with at least one client. */
  pdevs: Set<string>;
}

/** Keeps each client's previous GFX counter so two calls give a busy percent. */
export class AmdProcessUsage {
  #prev = new Map<string, number>();

  /**
   * Clients of `pids` on `knownPdevs`. `elapsedSecs` ≤ 0 is a peek: the counters are not
   * advanced and the GFX percent is 0.
   */
  measure(
    proc: string,
    pids: Iterable<number>,
    knownPdevs: ReadonlySet<string>,
    elapsedSecs: number,
  ): AmdProcessReading {
    const clients = new Map<string, DrmClient>();
    for (const pid of pids) {
      for (const [key, c] of readPidClients(proc, pid)) {
        if (c.pdev !== undefined && !knownPdevs.has(c.pdev)) continue;
        if (!clients.has(key)) clients.set(key, c);
      }
    }
    const advance = elapsedSecs > 0;
    const next = new Map<string, number>();
    let gfxPct = 0;
    let vramBytes = 0;
    const pdevs = new Set<string>();
    for (const [key, c] of clients) {
      if (c.pdev !== undefined) pdevs.add(c.pdev);
      vramBytes += c.vramBytes ?? 0;
      if (c.gfxNs === undefined) continue;
      next.set(key, c.gfxNs);
      const prev = this.#prev.get(key);
      if (advance && prev !== undefined) {
        gfxPct += Math.max(0, c.gfxNs - prev) / (elapsedSecs * 1e9) * 100;
      }
    }
    if (advance) this.#prev = next;
    return { gfxPct, vramBytes, pdevs };
  }
}
