/**
 * Block devices (docs/COMPATIBILITY.md §1.6, §3.11–3.12, Part A): I/O counters from /proc/diskstats
 * (sectors, always 512-byte units), identity from /sys/block/<dev>, and the space of the
 * filesystems mounted from each device (statfs).
 */
import { statfs } from "../base/libc.ts";
import type { DiskSample, DiskType, MountSample } from "../base/sample.ts";
import { listDir, readAttr, readInt, readText } from "./read.ts";
import type { Section, SectionFactory } from "./section.ts";

/** The kernel counts diskstats sectors in 512-byte units whatever the device's sector size. */
const SECTOR_BYTES = 512;

export interface DiskCounters {
  sectors_read: number;
  sectors_written: number;
}

/** /proc/diskstats: `major minor name reads merged sectors_read ms writes merged sectors_written …`. */
export function parseDiskstats(text: string): Map<string, DiskCounters> {
  const out = new Map<string, DiskCounters>();
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const read = Number(f[5]), written = Number(f[9]);
    // Counters never go below zero: a negative one is a garbled line, not data.
    if (!Number.isFinite(read) || !Number.isFinite(written) || read < 0 || written < 0) continue;
    out.set(f[2]!, { sectors_read: read, sectors_written: written });
  }
  return out;
}

export interface MountEntry {
  /** `major:minor` of the mounted filesystem's device. */
  devno: string;
  mount_point: string;
  filesystem: string;
  source: string;
}

/** Undo the octal escapes (`\040` for space) the kernel uses in mount tables. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** /proc/self/mountinfo: `id parent maj:min root mountpoint opts [optional…] - fstype source super`. */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(" ");
    const dash = f.indexOf("-", 6);
    if (f.length < 10 || dash < 0 || f[dash + 2] === undefined) continue;
    out.push({
      devno: f[2]!,
      mount_point: unescape(f[4]!),
      filesystem: f[dash + 1]!,
      source: unescape(f[dash + 2]!),
    });
  }
  return out;
}

/** /proc/mounts (fallback when mountinfo is missing): `source mountpoint fstype …`, no devno. */
export function parseProcMounts(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(" ");
    if (f.length < 3) continue;
    out.push({
      devno: "",
      source: unescape(f[0]!),
      mount_point: unescape(f[1]!),
      filesystem: f[2]!,
    });
  }
  return out;
}

/** Facts about one device read once when it is first seen. */
export interface DiskIdentity {
  device: string;
  model: string | null;
  vendor: string | null;
  serial: string | null;
  device_type: DiskType | null;
  virtual: boolean;
  /** Names that mount sources may use for this device: itself, its partitions, its dm name. */
  names: Set<string>;
  /** `major:minor` of the device and of each partition. */
  devnos: Set<string>;
  /** Name (as in `names`) → its `major:minor`, to dedupe mounts of one partition. */
  devnoByName: Map<string, string>;
}

export function deviceType(name: string, rotational: number | undefined): DiskType | null {
  if (name.startsWith("nvme")) return "nvme";
  if (rotational === 0) return "ssd";
  if (rotational === 1) return "hdd";
  return null;
}

export function readDiskIdentity(sys: string, device: string): DiskIdentity {
  const base = `${sys}/block/${device}`;
  const names = new Set([device]);
  const devnos = new Set<string>();
  const devnoByName = new Map<string, string>();
  const own = readAttr(`${base}/dev`);
  if (own) {
    devnos.add(own);
    devnoByName.set(device, own);
  }
  for (const entry of listDir(base)) {
    // Partitions are subdirectories holding a `partition` attribute.
    if (readText(`${base}/${entry}/partition`) === undefined) continue;
    names.add(entry);
    const devno = readAttr(`${base}/${entry}/dev`);
    if (devno) {
      devnos.add(devno);
      devnoByName.set(entry, devno);
    }
  }
  const dmName = readAttr(`${base}/dm/name`);
  if (dmName) {
    names.add(`mapper/${dmName}`);
    if (own) devnoByName.set(`mapper/${dmName}`, own);
  }
  let virtual = false;
  try {
    virtual = Deno.realPathSync(base).includes("/devices/virtual/");
  } catch { /* not a link: treat as physical */ }
  return {
    device,
    model: readAttr(`${base}/device/model`) ?? null,
    vendor: readAttr(`${base}/device/vendor`) ?? null,
    serial: readAttr(`${base}/device/serial`) ?? readAttr(`${base}/device/wwid`) ?? null,
    device_type: deviceType(device, readInt(`${base}/queue/rotational`)),
    virtual,
    names,
    devnos,
    devnoByName,
  };
}

/** Devices we report: in /proc/diskstats and /sys/block, but not loop* or ram* (docs/COMPATIBILITY.md §1.6). */
function isReportable(name: string): boolean {
  return !name.startsWith("loop") && !name.startsWith("ram");
}

const SKIPPED_MOUNT_ROOTS = ["/proc", "/sys", "/dev", "/run"];

function skippedMountPoint(p: string): boolean {
  return SKIPPED_MOUNT_ROOTS.some((r) => p === r || p.startsWith(`${r}/`));
}

/**
 * Mounts that belong to a device: matched by device number (covers /dev/root, /dev/mapper and
 * by-uuid sources), else by source path `/dev/<name>` (exact name, no prefix match). Each
 * partition is counted once (bind mounts, btrfs subvolumes, `/dev/root` beside `/dev/sda2`).
 */
export function mountsOf(id: DiskIdentity, mounts: MountEntry[]): MountEntry[] {
  const seen = new Set<string>();
  const out: MountEntry[] = [];
  for (const m of mounts) {
    if (skippedMountPoint(m.mount_point)) continue;
    const byDevno = m.devno !== "" && id.devnos.has(m.devno);
    const byName = m.source.startsWith("/dev/") && id.names.has(m.source.slice(5));
    if (!byDevno && !byName) continue;
    const key = byDevno ? m.devno : id.devnoByName.get(m.source.slice(5)) ?? m.source;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(m);
  }
  return out;
}

export interface FsStats {
  blocks: number;
  bfree: number;
  bavail: number;
  bsize: number;
  frsize?: number;
}

/** Space of one mounted filesystem; `undefined` when it has no blocks. */
export function mountSpace(m: MountEntry, st: FsStats): MountSample | undefined {
  if (st.blocks === 0) return undefined;
  const bs = st.frsize || st.bsize;
  const total = st.blocks * bs;
  const used = total - st.bfree * bs;
  return {
    mount_point: m.mount_point,
    filesystem: m.filesystem,
    total_bytes: total,
    used_bytes: used,
    available_bytes: st.bavail * bs,
    used_pct: total === 0 ? 0 : (used / total) * 100,
  };
}

/** statfs of a mount point seen through `root` (the host's root when run in a container). */
function statMount(root: string, m: MountEntry): MountSample | undefined {
  const path = root === "/" ? m.mount_point : `${root.replace(/\/$/, "")}${m.mount_point}`;
  const st = statfs(path);
  return st === undefined ? undefined : mountSpace(m, st);
}

export interface DiskReading {
  device: string;
  counters: DiskCounters;
  /** `size` in 512-byte sectors. */
  size_sectors: number | undefined;
  mounts: MountSample[];
}

const rate = (curr: number, prev: number | undefined, secs: number) =>
  prev === undefined || curr < prev ? 0 : ((curr - prev) * SECTOR_BYTES) / secs;

/** One DiskSample per reading, sorted by device. */
export function deriveDisks(
  prev: Map<string, DiskCounters> | undefined,
  curr: DiskReading[],
  elapsedSecs: number,
  identity: (device: string) => DiskIdentity,
): DiskSample[] {
  const secs = Math.max(0.001, elapsedSecs);
  return curr.map((r) => {
    const id = identity(r.device);
    const p = prev?.get(r.device);
    return {
      device: r.device,
      model: id.model,
      vendor: id.vendor,
      serial: id.serial,
      device_type: id.device_type,
      capacity_bytes: r.size_sectors ? r.size_sectors * SECTOR_BYTES : null,
      virtual: id.virtual,
      mounts: r.mounts,
      read_bytes_per_sec: rate(r.counters.sectors_read, p?.sectors_read, secs),
      write_bytes_per_sec: rate(r.counters.sectors_written, p?.sectors_written, secs),
      read_bytes_total: r.counters.sectors_read * SECTOR_BYTES,
      write_bytes_total: r.counters.sectors_written * SECTOR_BYTES,
    };
  });
}

/**
 * Reads disks each sample, caching identity per device. New devices (hot-plug) are picked up
 * when they appear in /proc/diskstats; names that are not /sys/block entries (partitions) are
 * remembered so they cost one check only.
 */
export class DiskReader {
  #identities = new Map<string, DiskIdentity>();
  #notDevices = new Set<string>();
  constructor(
    private readonly proc: string,
    private readonly sys: string,
    private readonly root: string,
  ) {}

  identity = (device: string): DiskIdentity => {
    let id = this.#identities.get(device);
    if (!id) {
      id = readDiskIdentity(this.sys, device);
      this.#identities.set(device, id);
    }
    return id;
  };

  #isDevice(name: string): boolean {
    if (this.#identities.has(name)) return true;
    if (this.#notDevices.has(name)) return false;
    const ok = isReportable(name) && readText(`${this.sys}/block/${name}/dev`) !== undefined;
    if (ok) this.identity(name);
    else this.#notDevices.add(name);
    return ok;
  }

  read(): { counters: Map<string, DiskCounters>; readings: DiskReading[] } | undefined {
    const text = readText(`${this.proc}/diskstats`);
    if (text === undefined) return undefined;
    const all = parseDiskstats(text);
    const info = readText(`${this.proc}/self/mountinfo`);
    const mounts = info !== undefined
      ? parseMountinfo(info)
      : parseProcMounts(readText(`${this.proc}/mounts`) ?? "");
    const counters = new Map<string, DiskCounters>();
    const readings: DiskReading[] = [];
    for (const [name, c] of all) {
      if (!this.#isDevice(name)) continue;
      counters.set(name, c);
      const id = this.identity(name);
      const size = readInt(`${this.sys}/block/${name}/size`);
      readings.push({
        device: name,
        counters: c,
        size_sectors: size,
        mounts: mountsOf(id, mounts).flatMap((m) => statMount(this.root, m) ?? []),
      });
    }
    readings.sort((a, b) => (a.device < b.device ? -1 : a.device > b.device ? 1 : 0));
    return { counters, readings };
  }
}

type DiskRead = NonNullable<ReturnType<DiskReader["read"]>>;

/** Per-device rates from two readings of /proc/diskstats, plus the space of each mount. */
export const diskSection: SectionFactory = (roots): Section<"disk", DiskRead> => {
  const reader = new DiskReader(roots.proc, roots.sys, roots.root);
  return {
    key: "disk",
    read: () => reader.read(),
    derive: (prev, curr, secs) => deriveDisks(prev?.counters, curr.readings, secs, reader.identity),
    empty: [],
  };
};
