/**
 * Network interfaces: byte counters from /proc/net/dev, identity from /sys/class/net/<if>
 * (docs/COMPATIBILITY.md §1.5, §3.13). Loopback (`lo`) is excluded.
 */
import type { NetworkSample } from "../base/sample.ts";
import { readAttr, readInt, readLinkBase, readText } from "./read.ts";
import type { Section, SectionFactory } from "./section.ts";

export interface NetCounters {
  interface: string;
  rx_bytes: number;
  tx_bytes: number;
}

/** Parses /proc/net/dev (two header lines, then `name: rx_bytes … (8 fields) tx_bytes …`). */
export function parseNetDev(text: string): NetCounters[] {
  const out: NetCounters[] = [];
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    if (name === "" || name === "lo" || name.includes("|")) continue;
    const fields = line.slice(colon + 1).trim().split(/\s+/);
    if (fields.length < 9) continue;
    const rx = Number(fields[0]), tx = Number(fields[8]);
    // Counters never go below zero: a negative one is a garbled line, not data.
    if (!Number.isFinite(rx) || !Number.isFinite(tx) || rx < 0 || tx < 0) continue;
    out.push({ interface: name, rx_bytes: rx, tx_bytes: tx });
  }
  return out.sort((a, b) => (a.interface < b.interface ? -1 : a.interface > b.interface ? 1 : 0));
}

export function readNetDev(proc: string): NetCounters[] | undefined {
  const text = readText(`${proc}/net/dev`);
  return text === undefined ? undefined : parseNetDev(text);
}

/** Identity read once at start-up. */
export interface NetIdentity {
  mac_address: string | null;
  driver: string | null;
}

export function readNetIdentity(sys: string, name: string): NetIdentity {
  const base = `${sys}/class/net/${name}`;
  return {
    mac_address: readAttr(`${base}/address`) ?? null,
    driver: readLinkBase(`${base}/device/driver`) ?? null,
  };
}

/** Attributes that can change while running: read every sample. */
export interface NetState {
  operstate: string | null;
  speed_mbps: number | null;
  mtu: number | null;
}

export function readNetState(sys: string, name: string): NetState {
  const base = `${sys}/class/net/${name}`;
  return {
    operstate: readAttr(`${base}/operstate`) ?? null,
    speed_mbps: readInt(`${base}/speed`) ?? null,
    mtu: readInt(`${base}/mtu`) ?? null,
  };
}

const rate = (curr: number, prev: number | undefined, secs: number) =>
  prev === undefined || curr < prev ? 0 : (curr - prev) / secs;

/**
 * One NetworkSample per current interface. Rates are Δbytes / elapsed seconds; a new interface
 * or a counter reset (curr < prev) gives 0 for that interval.
 */
export function deriveNetwork(
  prev: NetCounters[] | undefined,
  curr: NetCounters[],
  elapsedSecs: number,
  identity: (name: string) => NetIdentity,
  state: (name: string) => NetState,
): NetworkSample[] {
  const before = new Map(prev?.map((c) => [c.interface, c]));
  const secs = Math.max(0.001, elapsedSecs);
  return curr.map((c) => {
    const p = before.get(c.interface);
    return {
      interface: c.interface,
      ...identity(c.interface),
      ...state(c.interface),
      rx_bytes_per_sec: rate(c.rx_bytes, p?.rx_bytes, secs),
      tx_bytes_per_sec: rate(c.tx_bytes, p?.tx_bytes, secs),
      rx_bytes_total: c.rx_bytes,
      tx_bytes_total: c.tx_bytes,
    };
  });
}

/**
 * Rates from two readings. The identity (MAC, driver) of interfaces present at start is read
 * once; later ones get nulls (docs/COMPATIBILITY.md §1.5). State is read each sample.
 */
export const networkSection: SectionFactory = (roots): Section<"network", NetCounters[]> => {
  const ids = new Map<string, NetIdentity>();
  for (const c of readNetDev(roots.proc) ?? []) {
    ids.set(c.interface, readNetIdentity(roots.sys, c.interface));
  }
  const identity = (name: string) => ids.get(name) ?? { mac_address: null, driver: null };
  return {
    key: "network",
    read: () => readNetDev(roots.proc),
    derive: (prev, curr, secs) =>
      deriveNetwork(prev, curr, secs, identity, (name) => readNetState(roots.sys, name)),
    empty: [],
  };
};
