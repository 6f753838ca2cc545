import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { cp } from "node:fs/promises";
import type { GpuSample } from "../../base/sample.ts";
import { counterDelta, integratePower, JOULES_PER_KWH } from "../../base/integrate.ts";
import { discoverHwmon } from "./hwmon.ts";
import { detectEnergyMeter, EnergyMeter } from "./mod.ts";
import { discoverRapl } from "./rapl.ts";

const TESTDATA = new URL("./testdata/", import.meta.url).pathname;

/** A writable copy of a fixture tree (the meter reads counters we then advance). */
async function tree(name: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "rt-energy-" });
  await cp(`${TESTDATA}${name}`, dir, { recursive: true });
  return dir;
}

const set = (path: string, v: number) => Deno.writeTextFileSync(path, `${v}\n`);

Deno.test("RAPL discovery: packages and DRAM, not core (inside the package)", () => {
  const zones = discoverRapl(`${TESTDATA}rapl`);
  deepStrictEqual(zones.map((z) => z.name), [
    "package-0@intel-rapl:0",
    "dram@intel-rapl:0:1",
    "package-1@intel-rapl:1",
  ]);
  strictEqual(zones[0]!.rangeUj, 262143328850);
  deepStrictEqual(discoverRapl("/nonexistent"), []);
});

Deno.test("counter delta: plain, wrap-around at max_energy_range_uj, impossible", () => {
  strictEqual(counterDelta(1_000_000, 3_000_000, 262143328850), 2_000_000);
  // package-1 wraps: 262143000000 → 500000 with range 262143328850.
  strictEqual(counterDelta(262143000000, 500000, 262143328850), 828850);
  strictEqual(counterDelta(5, 3, null), null); // a counter went back without a known range
  strictEqual(counterDelta(NaN, 3, 10), null);
});

Deno.test("energy meter on the RAPL fixture: joules per zone, wrap, baseline, impossible delta", async () => {
  const sys = await tree("rapl");
  const base = `${sys}/class/powercap`;
  const warned: string[] = [];
  const m = detectEnergyMeter({ sys, warn: (l) => warned.push(l), maxGapSecs: 3 }, false)!;
  strictEqual(m.domains.length, 3);
  const first = new EnergyMeter({ sys, warn: () => {}, maxGapSecs: 3 });
  deepStrictEqual(first.read(0)!.joules, 0); // baseline: nothing to count yet
  set(`${base}/intel-rapl:0/energy_uj`, 3_000_000); // +2 J
  set(`${base}/intel-rapl:0:1/energy_uj`, 550_000); // +0.5 J
  set(`${base}/intel-rapl:1/energy_uj`, 500_000); // wrapped: +0.82885 J
  const s = first.read(1)!;
  strictEqual(s.method, "measured");
  strictEqual(s.devices["rapl:package-0@intel-rapl:0"], 2);
  strictEqual(s.devices["rapl:dram@intel-rapl:0:1"], 0.5);
  strictEqual(s.devices["rapl:package-1@intel-rapl:1"], 0.82885);
  ok(Math.abs(s.joules - 3.32885) < 1e-9);
  ok(Math.abs(s.watts - 3.32885) < 1e-9);
  // A counter reading garbage contributes nothing; the others still count.
  Deno.writeTextFileSync(`${base}/intel-rapl:0/energy_uj`, "garbage\n");
  set(`${base}/intel-rapl:0:1/energy_uj`, 650_000);
  const t = first.read(1)!;
  strictEqual(t.devices["rapl:package-0@intel-rapl:0"], undefined);
  strictEqual(t.devices["rapl:dram@intel-rapl:0:1"], 0.1);
  // > 100 kW over the interval is impossible: dropped.
  set(`${base}/intel-rapl:0:1/energy_uj`, 650_000 + 200_000 * 1e6);
  strictEqual(first.read(1)!.devices["rapl:dram@intel-rapl:0:1"], undefined);
  deepStrictEqual(warned, []);
  await Deno.remove(sys, { recursive: true });
});

Deno.test("hwmon fixture: amdgpu energy counter, power-only device integrated (trapezoid)", async () => {
  const sys = await tree("hwmon");
  const devs = discoverHwmon(sys);
  deepStrictEqual(devs.map((d) => [d.name, !!d.energyPath, !!d.powerPath]), [
    ["amdgpu@hwmon1", true, true],
    ["amdgpu@hwmon2", false, true],
  ]);
  const m = new EnergyMeter({ sys, warn: () => {}, maxGapSecs: 3 });
  m.read(0);
  set(`${sys}/class/hwmon/hwmon1/energy1_input`, 5_000_000 + 180_000_000); // +180 J
  set(`${sys}/class/hwmon/hwmon2/power1_input`, 200_000_000); // 100 W → 200 W
  const s = m.read(2)!;
  strictEqual(s.devices["hwmon:amdgpu@hwmon1"], 180);
  strictEqual(s.devices["hwmon:amdgpu@hwmon2"], 300); // (100 + 200) / 2 × 2 s
  // A gap longer than maxGapSecs is not bridged.
  strictEqual(m.read(10)!.devices["hwmon:amdgpu@hwmon2"], undefined);
  await Deno.remove(sys, { recursive: true });
});

Deno.test("NVIDIA board power × time from GPU samples; 0 W (read error) counts nothing", () => {
  const m = new EnergyMeter({ sys: "/nonexistent", warn: () => {}, maxGapSecs: 5 });
  const g = (w: number) => ({ uuid: "GPU-1", detail: {}, power_watts: w }) as unknown as GpuSample;
  m.read(0, [g(300)]);
  strictEqual(m.read(1, [g(500)])!.joules, 400);
  strictEqual(m.read(1, [g(0)])!.joules, 0);
  strictEqual(m.read(1, [g(NaN)])!.joules, 0);
});

Deno.test("trapezoid integration: gap policy, impossible readings, kWh", () => {
  const r = integratePower([0, 1, 2, 10, 11], [100, 100, 100, 100, 100], 3);
  strictEqual(r.joules, 300); // 0–2 and 10–11; the 8 s gap is not bridged
  strictEqual(r.uncoveredSecs, 8);
  const bad = integratePower([0, 1, 2, 3], [100, NaN, 100, 100], 3);
  strictEqual(bad.joules, 100); // both trapezoids touching NaN are dropped
  strictEqual(integratePower([0, 1], [-5, 10], 3).joules, 0);
  strictEqual(integratePower([0, 1], [200_000, 10], 3).joules, 0);
  strictEqual(3.6e6 / JOULES_PER_KWH, 1);
});

Deno.test("lifetime joules: monotonic across runs, 0600, bounded, no symlinks, bad file set aside", async () => {
  const { addLifetime, MAX_DEVICES, readLifetime } = await import("./lifetime.ts");
  const dir = await Deno.makeTempDir({ prefix: "rt-lifetime-" });
  const path = `${dir}/state/energy.json`;
  addLifetime(path, { "rapl:pkg": 10, "gpu:A": 5 });
  const two = addLifetime(path, { "rapl:pkg": 2.5, "gpu:A": -7, "gpu:B": NaN });
  deepStrictEqual(two.devices, { "rapl:pkg": 12.5, "gpu:A": 5 });
  strictEqual(Deno.statSync(path).mode! & 0o777, 0o600);
  deepStrictEqual(readLifetime(path).devices, two.devices);
  const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`d${i}`, 1]));
  strictEqual(Object.keys(addLifetime(path, many).devices).length, MAX_DEVICES);
  Deno.writeTextFileSync(path, "{not json");
  const fresh = addLifetime(path, { "rapl:pkg": 1 });
  deepStrictEqual(fresh.devices, { "rapl:pkg": 1 });
  ok(Deno.statSync(`${path}.bad`).isFile);
  const link = `${dir}/link.json`;
  Deno.symlinkSync(path, link);
  let refused = false;
  try {
    addLifetime(link, { x: 1 });
  } catch (e) {
    refused = /symbolic link/.test((e as Error).message);
  }
  ok(refused);
  deepStrictEqual(readLifetime(path).devices, { "rapl:pkg": 1 }); // untouched through the link
  await Deno.remove(dir, { recursive: true });
});
