import assert from "node:assert/strict";
import type { GpuSample } from "../../base/sample.ts";
import { MIB } from "../../base/units.ts";
import {
  addProcessGpu,
  mergeProcesses,
  nvidiaProcessGpu,
  type NvidiaSnapshot,
  usedPct,
} from "./process_gpu.ts";

const sample = (i: number): GpuSample => ({
  uuid: `GPU-${i}`,
  name: "x",
  device_type: "GPU",
  host_id: String(i),
  detail: {},
  utilization_pct: 0,
  vram_total_bytes: 0,
  vram_used_bytes: 0,
  vram_used_pct: 0,
  temperature_celsius: 0,
  power_watts: 0,
  frequency_mhz: 0,
  core_count: null,
});

const snap: NvidiaSnapshot = {
  devices: [
    {
      sample: sample(0),
      processes: [{ pid: 10, usedBytes: 100 * MIB }, { pid: 11, usedBytes: null }],
      sm: new Map([[10, 60], [11, 5]]),
    },
    { sample: sample(1), processes: [{ pid: 20, usedBytes: 50 * MIB }], sm: new Map([[20, 30]]) },
    { sample: sample(2), processes: [], sm: new Map([[99, 7]]) }, // sample of an exited PID
  ],
};

Deno.test("nvidiaProcessGpu: host-wide when untracked (null), nothing for an empty tree, tree-only otherwise", () => {
  const cases: [
    ReadonlySet<number> | null,
    { usage: number; vram_mib: number; utilized: number },
  ][] = [
    [null, { usage: 1.02, vram_mib: 150, utilized: 2 }],
    // An ended tree has no GPU processes: zero, not the host's (issue 13, defect 3).
    [new Set(), { usage: 0, vram_mib: 0, utilized: 0 }],
    [new Set([10]), { usage: 0.6, vram_mib: 100, utilized: 1 }],
    [new Set([11]), { usage: 0.05, vram_mib: 0, utilized: 1 }],
    [new Set([10, 20]), { usage: 0.9, vram_mib: 150, utilized: 2 }],
    [new Set([12345]), { usage: 0, vram_mib: 0, utilized: 0 }],
  ];
  for (const [tree, want] of cases) {
    const got = nvidiaProcessGpu(snap, tree);
    assert.ok(Math.abs(got.usage - want.usage) < 1e-9, `${[...tree ?? []]}: ${got.usage}`);
    assert.equal(got.vram_mib, want.vram_mib);
    assert.equal(got.utilized, want.utilized);
  }
  assert.deepEqual(nvidiaProcessGpu({ devices: [] }, null), { usage: 0, vram_mib: 0, utilized: 0 });
});

Deno.test("mergeProcesses: one entry per PID, a known byte count wins over null", () => {
  assert.deepEqual(
    mergeProcesses([
      [{ pid: 1, usedBytes: null }, { pid: 2, usedBytes: 5 }],
      [{ pid: 1, usedBytes: 7 }, { pid: 2, usedBytes: 5 }, { pid: 3, usedBytes: null }],
    ]),
    [{ pid: 1, usedBytes: 7 }, { pid: 2, usedBytes: 5 }, { pid: 3, usedBytes: null }],
  );
  assert.deepEqual(mergeProcesses([]), []);
});

Deno.test("usedPct and addProcessGpu", () => {
  assert.equal(usedPct(1, 4), 25);
  assert.equal(usedPct(5, 0), 0);
  assert.deepEqual(
    addProcessGpu({ usage: 1, vram_mib: 2, utilized: 1 }, { usage: 0.5, vram_mib: 1, utilized: 2 }),
    { usage: 1.5, vram_mib: 3, utilized: 3 },
  );
});
