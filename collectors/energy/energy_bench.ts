/** Per-sample cost of the energy meter on the fixture trees: `deno bench -A collectors/energy/`. */
import { EnergyMeter } from "./mod.ts";

const TESTDATA = new URL("./testdata/", import.meta.url).pathname;
const rapl = new EnergyMeter({ sys: `${TESTDATA}rapl`, warn: () => {}, maxGapSecs: 3 });
const hwmon = new EnergyMeter({ sys: `${TESTDATA}hwmon`, warn: () => {}, maxGapSecs: 3 });
const none = new EnergyMeter({ sys: "/nonexistent", warn: () => {}, maxGapSecs: 3 });

Deno.bench("energy: 3 RAPL zones per sample", () => {
  rapl.read(1);
});
Deno.bench("energy: 2 amdgpu hwmon devices per sample", () => {
  hwmon.read(1);
});
Deno.bench("energy: nothing to count (VM)", () => {
  none.read(1);
});
