/**
 * NVIDIA energy from NVML's total-energy counter, through the C fake of libnvidia-ml (real FFI,
 * real collector, real energy meter). Device 0 has the counter, device 1 is pre-Volta
 * (NOT_SUPPORTED) and is counted as board power × time; see fake_nvml.c for the knobs.
 */
import { sleep } from "../../base/time.ts";
import assert from "node:assert/strict";
import type { GpuSample } from "../../base/sample.ts";
import { EnergyMeter } from "../energy/mod.ts";
import { attachEnergyCounter, type EnergyCounter, energyCounterOf } from "./energy_counter.ts";
import { createGpuCollector, type GpuCollector } from "./mod.ts";
import { buildFakeNvml, CC, fixtureRoots } from "../../tests/fakes/gpu.ts";

const GPU0 = "gpu:GPU-00000000-0000-0000-0000-000000000000";
const GPU1 = "gpu:GPU-00000000-0000-0000-0000-000000000001";
const W0 = 312.45; // the fake's board power, device 0
const W1 = 61.2;
const ENV = [
  "FAKE_NVML_ENERGY",
  "FAKE_NVML_ENERGY_START_MJ",
  "FAKE_NVML_ENERGY_STEP_MJ",
  "FAKE_NVML_ENERGY_RESET_AT",
];

interface Interval {
  devices: Record<string, number>;
  /** The counter read with this interval's sample and with the previous one. */
  counter: EnergyCounter | undefined;
  prev: EnergyCounter | undefined;
}

/**
 * `n` intervals of 1 s (as the meter is told; the counter's own read times are real): a fresh
 * NVML refresh before each read, so every reading is new.
 */
async function run(
  defines: string[],
  env: Record<string, string>,
  n: number,
): Promise<Interval[]> {
  const dir = await Deno.makeTempDir({ prefix: "rt-nvml-energy-" });
  for (const k of ENV) Deno.env.delete(k);
  for (const [k, v] of Object.entries(env)) Deno.env.set(k, v);
  let c: GpuCollector | undefined;
  try {
    c = createGpuCollector({
      roots: fixtureRoots("cpu_only"),
      nvmlPath: await buildFakeNvml(dir, defines),
      warn: assert.fail,
    });
    const meter = new EnergyMeter({ sys: "/nonexistent", warn: assert.fail, maxGapSecs: 5 });
    const out: Omit<Interval, "prev">[] = [];
    for (let i = 0; i <= n; i++) {
      await c.refresh!();
      await sleep(5); // the counter's interval is never 0 s
      const gpus: GpuSample[] = c.read(null, 1).devices;
      assert.equal(gpus.length, 2);
      const e = meter.read(i === 0 ? 0 : 1, gpus);
      assert.ok(e !== null);
      out.push({ devices: e.devices, counter: energyCounterOf(gpus[0]!) });
      // The counter never leaks into the sample (docs/COMPATIBILITY.md §1.7 keys only).
      assert.equal(JSON.stringify(gpus[0]).includes("mj"), false);
      assert.equal(energyCounterOf(gpus[1]!), undefined, "device 1 has no counter");
    }
    return out.slice(1).map((iv, i) => ({ ...iv, prev: out[i]!.counter }));
  } finally {
    await c?.close();
    for (const k of ENV) Deno.env.delete(k);
    await Deno.remove(dir, { recursive: true });
  }
}

const near = (a: number | undefined, b: number) =>
  assert.ok(a !== undefined && Math.abs(a - b) < 1e-9, `${a} ≠ ${b}`);

Deno.test({
  name: "NVML total energy: counter deltas become joules exactly; NOT_SUPPORTED is power × time",
  ignore: !CC,
  fn: async () => {
    const ivs = await run([], { FAKE_NVML_ENERGY_STEP_MJ: "1500" }, 4);
    assert.equal(ivs.length, 4);
    for (const [i, { counter: cur, prev, devices }] of ivs.entries()) {
      assert.ok(cur !== undefined && prev !== undefined, `interval ${i}: counter read`);
      assert.ok(cur.mj > 2 ** 32, "u64 decoded whole");
      const deltaMj = cur.mj - prev.mj;
      assert.ok(deltaMj > 0 && deltaMj % 1500 === 0, `delta ${deltaMj} is whole fake steps`);
      assert.equal(devices[GPU0], deltaMj / 1000, "joules = Δ mJ / 1000, exactly");
      near(devices[GPU1], W1); // 61.2 W × 1 s, trapezoidal
    }
  },
});

Deno.test({
  name: "NVML total energy: a counter that goes back (driver reload) falls back for one interval",
  ignore: !CC,
  fn: async () => {
    // Call 1 is init's probe, calls 2… one per refresh: the reset lands inside the run.
    const ivs = await run(
      [],
      { FAKE_NVML_ENERGY_RESET_AT: "5", FAKE_NVML_ENERGY_STEP_MJ: "2000" },
      6,
    );
    const kinds = ivs.map(({ counter: cur, prev, devices }) => {
      assert.ok(cur !== undefined && prev !== undefined);
      if (cur.mj < prev.mj) {
        near(devices[GPU0], W0); // power × time (312.45 W × 1 s) stands in
        return "power";
      }
      assert.equal(devices[GPU0], (cur.mj - prev.mj) / 1000);
      return "counter";
    });
    assert.equal(kinds.filter((k) => k === "power").length, 1, kinds.join(","));
    assert.equal(kinds.at(-1), "counter", "the counter is used again after the reset");
  },
});

Deno.test({
  name: "NVML total energy: NOT_SUPPORTED everywhere, or a driver without the symbol: power × time",
  ignore: !CC,
  fn: async () => {
    for (
      const [defines, env] of [[[], { FAKE_NVML_ENERGY: "off" }], [
        ["-DNO_TOTAL_ENERGY"],
        {},
      ]] as const
    ) {
      const ivs = await run([...defines], env, 2);
      for (const iv of ivs) {
        assert.equal(iv.counter, undefined);
        near(iv.devices[GPU0], W0);
        near(iv.devices[GPU1], W1);
      }
    }
  },
});

Deno.test("energy meter, GPU counter rules: stale reading, impossible delta, counter lost", () => {
  const m = new EnergyMeter({ sys: "/nonexistent", warn: assert.fail, maxGapSecs: 5 });
  const gpu = (watts: number, counter?: EnergyCounter): GpuSample => {
    const g = { uuid: "GPU-1", detail: {}, power_watts: watts } as unknown as GpuSample;
    if (counter !== undefined) attachEnergyCounter(g, counter);
    return g;
  };
  const at = (mj: number, atMs: number) => ({ mj, atMs });
  const j = (secs: number, g: GpuSample) => m.read(secs, [g])!.devices["gpu:GPU-1"];
  assert.equal(j(0, gpu(100, at(1_000_000, 0))), undefined); // baseline
  assert.equal(j(1, gpu(300, at(1_250_000, 1000))), 250); // counter, not (100 + 300) / 2
  // The GPU refresh has not finished since: nothing now, the next delta covers both intervals.
  assert.equal(j(1, gpu(300, at(1_250_000, 1000))), undefined);
  assert.equal(j(1, gpu(300, at(1_750_000, 3000))), 500);
  // More than 100 kW over the counter's own interval: impossible, counts nothing.
  assert.equal(j(1, gpu(300, at(1_750_000 + 300_000_000, 4000))), undefined);
  // The counter missing for a refresh (an NVML error): power × time for that interval…
  assert.equal(j(1, gpu(500)), 400);
  // …and when it returns there is no baseline yet: power × time once more, then the counter.
  assert.equal(j(1, gpu(500, at(9_000_000, 6000))), 500);
  assert.equal(j(2, gpu(500, at(9_100_000, 8000))), 100);
  assert.equal(m.totals["gpu:GPU-1"], 250 + 500 + 400 + 500 + 100);
});
