import { sleep } from "../../base/time.ts";
import assert from "node:assert/strict";
import type { GpuSample } from "../../base/sample.ts";
import { createGpuCollector, firstReading, gpuHostFacts, type GpuOptions } from "./mod.ts";
import {
  buildFakeNvml,
  ccTest,
  fixtureRoots,
  testdata,
  wrapperScript,
} from "../../tests/fakes/gpu.ts";

import { MIB } from "../../base/units.ts";

const NO_LIB = "/nonexistent/libnvidia-ml.so.1";

/** A collector on the recorded NVIDIA host with the fake nvidia-smi, 10 s timeout, no warnings. */
function nvidiaCollector(o: Partial<GpuOptions>) {
  return createGpuCollector({
    roots: fixtureRoots("nvidia"),
    nvidiaSmi: testdata("nvidia-smi-fake"),
    timeoutMs: 10_000,
    warn: assert.fail,
    ...o,
  });
}

Deno.test("CPU-only host: no devices, process null, nothing spawned", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const marker = `${dir}/spawned`;
    const smi = await wrapperScript(dir, "nvidia-smi", `touch "${marker}"`);
    const warnings: string[] = [];
    const c = createGpuCollector({
      roots: fixtureRoots("cpu_only"),
      nvidiaSmi: smi,
      nvmlPath: NO_LIB,
      timeoutMs: 200,
      warn: (l) => warnings.push(l),
    });
    assert.deepEqual(c.read(null, 1), { devices: [], process: null });
    assert.deepEqual(await firstReading(c, 1000), { devices: [], process: null });
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(c.read(new Set([1]), 1), { devices: [], process: null });
    }
    await c.refresh?.();
    await c.close();
    await sleep(100);
    assert.equal(await Deno.stat(marker).then(() => true, () => false), false);
    assert.deepEqual(warnings, []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("NVIDIA driver without NVML: nvidia-smi fallback, host-wide and tracked", async () => {
  const c = nvidiaCollector({ nvmlPath: NO_LIB });
  try {
    const first = await firstReading(c, 30_000);
    assert.deepEqual(first.devices.map((d) => [d.host_id, d.uuid]), [
      ["0", "GPU-8f6e3a1c-2b4d-4e5f-9a7b-1c2d3e4f5a6b"],
      ["1", "GPU-1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809"],
    ]);
    assert.deepEqual(first.process, { usage: 0.87, vram_mib: 40480, utilized: 2 });
    assert.deepEqual(c.read(null, 1).process, first.process, "untracked: host-wide");
    assert.deepEqual(
      c.read(new Set(), 1).process,
      { usage: 0, vram_mib: 0, utilized: 0 },
      "an empty (ended) tree uses no GPU",
    );
    assert.deepEqual(c.read(new Set([4243, 7]), 1).process, {
      usage: 0.02,
      vram_mib: 480,
      utilized: 1,
    });
    assert.deepEqual(c.read(new Set([7]), 1).process, { usage: 0, vram_mib: 0, utilized: 0 });
    assert.deepEqual(gpuHostFacts(first.devices), {
      host_gpu_model: "NVIDIA A100-SXM4-80GB",
      host_gpu_count: 2,
      host_gpu_memory_mib: 163840,
    });
  } finally {
    await c.close();
  }
});

Deno.test("read() returns at once while nvidia-smi hangs; firstReading honours maxMs", async () => {
  const warnings: string[] = [];
  const c = nvidiaCollector({
    nvidiaSmi: testdata("nvidia-smi-hang"),
    nvmlPath: NO_LIB,
    timeoutMs: 60_000,
    warn: (l) => warnings.push(l),
  });
  try {
    const t0 = performance.now();
    const r = await firstReading(c, 200);
    assert.ok(performance.now() - t0 < 5000);
    assert.deepEqual(r, { devices: [], process: null });
    const t1 = performance.now();
    for (let i = 0; i < 100; i++) c.read(null, 1);
    assert.ok(performance.now() - t1 < 1000, "read() never waits");
  } finally {
    await c.close();
  }
  assert.deepEqual(warnings, []);
});

Deno.test("AMD fixture: devices, host-wide and tracked process values", async () => {
  const c = createGpuCollector({ roots: fixtureRoots("amd"), nvmlPath: NO_LIB, warn: assert.fail });
  try {
    const first = await firstReading(c, 1000);
    assert.deepEqual(first.devices.map((d) => [d.uuid, d.name, d.utilization_pct]), [
      ["0000:03:00.0", "AMD Aldebaran/MI200 [Instinct MI210]", 42],
      ["0000:0c:00.0", "AMD Radeon RX 7900 XTX", 3],
    ]);
    // Host-wide: device VRAM counters; a device counts when it has VRAM in use.
    assert.deepEqual(first.process, { usage: 0, vram_mib: 8192, utilized: 1 });
    assert.deepEqual(c.read(new Set([1000, 1001]), 1).process, {
      usage: 0,
      vram_mib: 1024,
      utilized: 1,
    });
    assert.deepEqual(c.read(new Set([2000]), 1).process, { usage: 0, vram_mib: 512, utilized: 1 });
    assert.deepEqual(c.read(new Set([424242]), 1).process, { usage: 0, vram_mib: 0, utilized: 0 });
    assert.deepEqual(gpuHostFacts(first.devices), {
      host_gpu_model: "AMD Aldebaran/MI200 [Instinct MI210]",
      host_gpu_count: 2,
      host_gpu_memory_mib: 65520 + 24560,
    });
  } finally {
    await c.close();
  }
});

Deno.test("gpuHostFacts: none, and floor per device", () => {
  assert.deepEqual(gpuHostFacts([]), {
    host_gpu_model: null,
    host_gpu_count: null,
    host_gpu_memory_mib: null,
  });
  const d = { name: "X", vram_total_bytes: 2 * MIB - 1 } as GpuSample;
  assert.deepEqual(gpuHostFacts([d, d]), {
    host_gpu_model: "X",
    host_gpu_count: 2,
    host_gpu_memory_mib: 2,
  });
});

ccTest(
  "NVML (C fake through FFI) wins over nvidia-smi; failed init falls back to it",
  async (dir) => {
    await Deno.mkdir(`${dir}/ok`);
    await Deno.mkdir(`${dir}/fail`);
    const good = await buildFakeNvml(`${dir}/ok`);
    const bad = await buildFakeNvml(`${dir}/fail`, ["-DFAIL_INIT"]);
    const marker = `${dir}/spawned`;
    const smi = await wrapperScript(
      dir,
      "nvidia-smi",
      `touch "${marker}"\n"${testdata("nvidia-smi-fake")}" "$@"`,
    );

    const c = createGpuCollector({
      roots: fixtureRoots("nvidia"),
      nvidiaSmi: smi,
      nvmlPath: good,
      warn: assert.fail,
    });
    const r = await firstReading(c, 30_000);
    assert.deepEqual(r.devices.map((d) => d.name), ["NVIDIA Fake GPU 0", "NVIDIA Fake GPU 1"]);
    assert.deepEqual(r.process, { usage: 0.85, vram_mib: 40992, utilized: 2 });
    assert.deepEqual(c.read(new Set([4243, 5000]), 1).process, {
      usage: 0.05,
      vram_mib: 512,
      utilized: 2,
    });
    await c.close();
    assert.equal(await Deno.stat(marker).then(() => true, () => false), false);

    const f = nvidiaCollector({ nvidiaSmi: smi, nvmlPath: bad });
    const rf = await firstReading(f, 30_000);
    assert.deepEqual(rf.devices.map((d) => d.name), [
      "NVIDIA A100-SXM4-80GB",
      "NVIDIA A100-SXM4-80GB",
    ]);
    await f.close();
  },
);

Deno.test("disableNvml with a driver present goes straight to nvidia-smi", async () => {
  const c = nvidiaCollector({ disableNvml: true });
  try {
    const r = await firstReading(c, 30_000);
    assert.equal(r.devices.length, 2);
    const vram = r.devices.reduce((s, d) => s + d.vram_used_bytes, 0) / MIB;
    assert.equal(vram, 40504);
  } finally {
    await c.close();
  }
});
