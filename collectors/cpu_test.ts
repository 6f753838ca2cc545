import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { busyTicks, deriveCpu, parseProcStat, zeroCpu } from "./cpu.ts";

const T0 = `cpu  100 0 50 800 50 0 0 0 0 0
cpu0 50 0 25 400 25 0 0 0 0 0
cpu1 50 0 25 400 25 0 0 0 0 0
intr 1 2 3
`;
// +100 ticks per core: cpu0 fully busy (user), cpu1 idle → 1 core busy of 2.
const T1 = `cpu  200 0 50 900 50 0 0 0 0 0
cpu0 150 0 25 400 25 0 0 0 0 0
cpu1 50 0 25 500 25 0 0 0 0 0
`;

Deno.test("parseProcStat reads the aggregate and per-core lines", () => {
  const s = parseProcStat(T0)!;
  strictEqual(s.total.user, 100);
  strictEqual(s.total.iowait, 50);
  deepStrictEqual(s.cores.map((c) => c.id), [0, 1]);
});

Deno.test("parseProcStat: empty, truncated and garbage input", () => {
  strictEqual(parseProcStat(""), undefined);
  strictEqual(parseProcStat("cpu 1 2"), undefined); // too few fields
  strictEqual(parseProcStat("cpu  a b c d e f g h"), undefined);
  strictEqual(parseProcStat("intr 1 2 3\nctxt 4"), undefined);
  // A garbled core line is skipped; the aggregate still counts.
  strictEqual(parseProcStat("cpu  1 2 3 4\ncpu0 x y z w")!.cores.length, 0);
  // Old kernels: missing iowait/irq/softirq/steal count as 0.
  strictEqual(parseProcStat("cpu  1 2 3 4")!.total.steal, 0);
});

Deno.test("deriveCpu: busy ratio × cores, per-core percent, utime/stime seconds", () => {
  const d = deriveCpu(parseProcStat(T0)!, parseProcStat(T1)!, 100);
  strictEqual(d.utilization_pct, 1); // 100 busy of 200 ticks × 2 cores
  deepStrictEqual(d.per_core_pct, [100, 0]);
  strictEqual(d.utime_secs, 1);
  strictEqual(d.stime_secs, 0);
});

Deno.test("deriveCpu: iowait counts as idle, irq/softirq/steal as busy", () => {
  const a = parseProcStat("cpu  0 0 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0")!;
  const b = parseProcStat("cpu  0 0 0 50 50 10 10 80\ncpu0 0 0 0 50 50 10 10 80")!;
  const { busy, total } = busyTicks(a.total, b.total);
  strictEqual(total, 200);
  strictEqual(busy, 100);
  strictEqual(deriveCpu(a, b, 100).utilization_pct, 0.5);
});

Deno.test("deriveCpu: counters going backwards never give negative values", () => {
  const d = deriveCpu(parseProcStat(T1)!, parseProcStat(T0)!, 100);
  strictEqual(d.utilization_pct, 0);
  ok(d.per_core_pct.every((p) => p >= 0 && p <= 100));
  strictEqual(d.utime_secs, 0);
});

Deno.test("deriveCpu: a core that went offline does not shift the others", () => {
  const a = parseProcStat("cpu  0 0 0 0\ncpu0 0 0 0 0\ncpu1 0 0 0 0\ncpu2 0 0 0 0")!;
  const b = parseProcStat("cpu  200 0 0 0\ncpu0 100 0 0 0\ncpu2 0 0 0 100")!;
  deepStrictEqual(deriveCpu(a, b, 100).per_core_pct, [100, 0]);
  deepStrictEqual(zeroCpu(b).per_core_pct, [0, 0]);
});
