/**
 * NVIDIA energy through the real CLI: the C fake of libnvidia-ml is found the way the real one is
 * (`dlopen("libnvidia-ml.so.1")` through LD_LIBRARY_PATH). Device 0 has NVML's total-energy
 * counter (each read advances it by 7777 mJ), device 1 is pre-Volta (NOT_SUPPORTED): board power
 * × time. Per-interval figures are checked against the sample's own interval (joules ÷ watts),
 * never against wall-clock expectations.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { buildFakeNvml, ccTest } from "./fakes/gpu.ts";
import type { Sample } from "../base/sample.ts";
import { jsonLines, runCli } from "./helpers.ts";

const GPU0 = "gpu:GPU-00000000-0000-0000-0000-000000000000";
const GPU1 = "gpu:GPU-00000000-0000-0000-0000-000000000001";
const STEP_J = 7.777;
const GPU_KEYS = [
  "uuid",
  "name",
  "device_type",
  "host_id",
  "detail",
  "utilization_pct",
  "vram_total_bytes",
  "vram_used_bytes",
  "vram_used_pct",
  "temperature_celsius",
  "power_watts",
  "frequency_mhz",
  "core_count",
];

const close = (a: number, b: number, rel = 1e-9) => Math.abs(a - b) <= rel * Math.max(1, b);

async function track(dir: string, env: Record<string, string>) {
  const out = `${dir}/run-${Object.values(env).join("-") || "default"}.jsonl`;
  const r = await runCli(["-i", "0.3", "-o", out, "--", "sleep", "1.6"], {
    env: {
      LD_LIBRARY_PATH: dir,
      XDG_STATE_HOME: `${dir}/state`,
      FAKE_NVML_ENERGY_STEP_MJ: "7777",
      ...env,
    },
  });
  strictEqual(r.code, 0, r.stderr);
  const samples = jsonLines(Deno.readTextFileSync(out)) as unknown as Sample[];
  const record = JSON.parse(Deno.readTextFileSync(`${out}.run.json`));
  return { samples, record };
}

ccTest(
  "CLI + fake NVML: JSON energy of a Volta+ GPU is the counter's delta, older GPUs power × time",
  async (dir) => {
    await buildFakeNvml(dir);
    const { samples, record } = await track(dir, {});
    ok(samples.length >= 3, `samples: ${samples.length}`);
    let sum = 0, counted = 0;
    for (const s of samples) {
      deepStrictEqual(s.gpu.map((g) => Object.keys(g)), [GPU_KEYS, GPU_KEYS], "gpu[] unchanged");
      const e = s.energy;
      ok(e !== undefined, "every sample has energy (GPUs are present)");
      const d0 = e.devices[GPU0];
      const d1 = e.devices[GPU1];
      if (d0 === undefined || d1 === undefined || !(e.watts > 0)) continue; // baseline, stale
      const secs = e.joules / e.watts;
      const steps = d0 / STEP_J;
      ok(
        Math.round(steps) >= 1 && close(steps, Math.round(steps)),
        `${d0} J: whole counter steps`,
      );
      ok(!close(d0 / secs, 312.45, 1e-6), "not the board power × time");
      ok(close(d1 / secs, 61.2), `device 1 is 61.2 W × ${secs} s, got ${d1} J`);
      sum += d0;
      counted++;
    }
    ok(counted >= 2, `intervals counted from the counter: ${counted}`);
    const run = record.energy.run_joules[GPU0];
    ok(close(run, sum), `run record ${run} J = Σ samples ${sum} J`);
    ok(close(record.energy.lifetime_joules[GPU0], run), "lifetime starts from this run");

    // The counter off (NOT_SUPPORTED on every device): device 0 falls back to power × time.
    const off = await track(dir, { FAKE_NVML_ENERGY: "off" });
    let fallback = 0;
    for (const s of off.samples) {
      const e = s.energy!;
      const d0 = e.devices[GPU0];
      if (d0 === undefined || !(e.watts > 0)) continue;
      ok(close(d0 / (e.joules / e.watts), 312.45), `device 0 is 312.45 W × time, got ${d0} J`);
      fallback++;
    }
    ok(fallback >= 2, `intervals counted from power: ${fallback}`);
  },
);
