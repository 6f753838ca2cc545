import { strictEqual } from "node:assert/strict";
import { deriveMemory, parseMeminfo } from "./memory.ts";

const MEMINFO = `MemTotal:       16384000 kB
MemFree:         2048000 kB
MemAvailable:    8192000 kB
Buffers:          102400 kB
Cached:          4096000 kB
SwapCached:            0 kB
Active:          6144000 kB
Inactive:        3072000 kB
SwapTotal:       2097152 kB
SwapFree:        1048576 kB
SReclaimable:     512000 kB
HugePages_Total:       0
`;

Deno.test("deriveMemory follows the contract formulas (MiB, truncated)", () => {
  const m = deriveMemory(parseMeminfo(MEMINFO));
  strictEqual(m.total_mib, 16000);
  strictEqual(m.free_mib, 2000);
  strictEqual(m.available_mib, 8000);
  strictEqual(m.used_mib, 8000); // MemTotal − MemAvailable
  strictEqual(m.used_pct, 50);
  strictEqual(m.buffers_mib, 100);
  strictEqual(m.cached_mib, 4000 + 500); // Cached + SReclaimable
  strictEqual(m.swap_total_mib, 2048);
  strictEqual(m.swap_used_mib, 1024);
  strictEqual(m.swap_used_pct, 50);
  strictEqual(m.active_mib, 6000);
  strictEqual(m.inactive_mib, 3000);
});

Deno.test("deriveMemory without MemAvailable uses free+buffers+cached+sreclaimable", () => {
  const m = deriveMemory(parseMeminfo(MEMINFO.replace(/^MemAvailable.*\n/m, "")));
  strictEqual(m.available_mib, 2000 + 100 + 4000 + 500);
  strictEqual(m.used_mib, 16000 - 6600);
});

Deno.test("deriveMemory truncates each value separately and never goes negative", () => {
  const m = deriveMemory(
    parseMeminfo(
      "MemTotal: 2047 kB\nMemAvailable: 4096 kB\nCached: 1023 kB\nSReclaimable: 1023 kB\n",
    ),
  );
  strictEqual(m.total_mib, 1);
  strictEqual(m.used_mib, 0);
  strictEqual(m.cached_mib, 0);
  strictEqual(m.swap_used_pct, 0);
});

Deno.test("parseMeminfo: empty, truncated and garbage input", () => {
  strictEqual(parseMeminfo("").size, 0);
  strictEqual(parseMeminfo("MemTotal:").size, 0);
  strictEqual(parseMeminfo("garbage line\n\u0000\u0001").size, 0);
  strictEqual(deriveMemory(parseMeminfo("")).used_pct, 0);
});
