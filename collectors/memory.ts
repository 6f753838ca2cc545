/** System memory from /proc/meminfo (kB values) → MemorySample in MiB (docs/COMPATIBILITY.md §1.4, §3.10). */
import type { MemorySample } from "../base/sample.ts";
import type { Section, SectionFactory } from "./section.ts";
import { readText } from "./read.ts";

/** Field name → value in kB (the unit /proc/meminfo prints for every sized field). */
export type Meminfo = Map<string, number>;

/** The fields deriveMemory uses; other lines are skipped without allocating. */
const FIELDS = new Set([
  "MemTotal",
  "MemFree",
  "MemAvailable",
  "Buffers",
  "Cached",
  "SReclaimable",
  "SwapTotal",
  "SwapFree",
  "Active",
  "Inactive",
]);

export function parseMeminfo(text: string): Meminfo {
  const out: Meminfo = new Map();
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    const colon = text.indexOf(":", start);
    if (colon > start && colon < end) {
      const name = text.slice(start, colon);
      if (FIELDS.has(name)) {
        const kb = parseInt(text.slice(colon + 1, end), 10);
        if (Number.isFinite(kb) && kb >= 0) out.set(name, kb);
      }
    }
    start = end + 1;
  }
  return out;
}

export function readMeminfo(proc: string): Meminfo | undefined {
  const text = readText(`${proc}/meminfo`);
  return text === undefined ? undefined : parseMeminfo(text);
}

/** kB → whole MiB, truncated (kB × 1024 ÷ 1 048 576). */
const mib = (kb: number) => Math.floor(kb / 1024);
const pct = (part: number, whole: number) => (whole === 0 ? 0 : (part / whole) * 100);

export function deriveMemory(m: Meminfo): MemorySample {
  const kb = (name: string) => m.get(name) ?? 0;
  const total = kb("MemTotal");
  // Kernels before 3.14 lack MemAvailable: estimate it the way the references do.
  const available = m.get("MemAvailable") ??
    kb("MemFree") + kb("Buffers") + kb("Cached") + kb("SReclaimable");
  const usedMib = mib(Math.max(0, total - available));
  const totalMib = mib(total);
  const swapTotal = mib(kb("SwapTotal"));
  const swapUsed = Math.max(0, swapTotal - mib(kb("SwapFree")));
  return {
    total_mib: totalMib,
    free_mib: mib(kb("MemFree")),
    available_mib: mib(available),
    used_mib: usedMib,
    used_pct: pct(usedMib, totalMib),
    buffers_mib: mib(kb("Buffers")),
    cached_mib: mib(kb("Cached")) + mib(kb("SReclaimable")),
    swap_total_mib: swapTotal,
    swap_used_mib: swapUsed,
    swap_used_pct: pct(swapUsed, swapTotal),
    active_mib: mib(kb("Active")),
    inactive_mib: mib(kb("Inactive")),
  };
}

/** All zero: /proc/meminfo unreadable (the schema has no nulls here; docs/COMPATIBILITY.md §1.4). */
export const EMPTY_MEMORY: MemorySample = {
  total_mib: 0,
  free_mib: 0,
  available_mib: 0,
  used_mib: 0,
  used_pct: 0,
  buffers_mib: 0,
  cached_mib: 0,
  swap_total_mib: 0,
  swap_used_mib: 0,
  swap_used_pct: 0,
  active_mib: 0,
  inactive_mib: 0,
};

/** A gauge: each sample derives from its own reading only. */
export const memorySection: SectionFactory = (roots): Section<"memory", Meminfo> => ({
  key: "memory",
  read: () => readMeminfo(roots.proc),
  derive: (_prev, curr) => deriveMemory(curr),
  empty: EMPTY_MEMORY,
});
