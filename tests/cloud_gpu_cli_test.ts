/**
 * Cloud discovery and GPUs through the real CLI, against loopback fakes and fixture trees.
 * Every provider's metadata URL points at loopback: no packet leaves the machine.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { CLOUD_ENDPOINTS } from "../clouds/mod.ts";
import { blackhole, serve } from "./fakes/loopback.ts";
import { text } from "./fakes/clouds/handlers.ts";
import { dmiRoot } from "./fakes/clouds/env.ts";
import { CSV_HEADER } from "../formats/csv.ts";
import type { Sample } from "../base/sample.ts";
import { assertSampleTiming, jsonLines, runCli } from "./helpers.ts";

const GPU_DATA = new URL("../collectors/gpu/testdata", import.meta.url).pathname;

/** Cloud discovery on, every provider pointed at `url` (loopback). */
function cloudEnv(url: string, overrides: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { TRACKER_NO_CLOUD: "0" };
  for (const e of CLOUD_ENDPOINTS) env[e.env] = overrides[e.id] ?? url;
  return env;
}

Deno.test("cloud discovery against a never-answering metadata service never delays the first sample", async () => {
  const hole = blackhole();
  try {
    const r = await runCli(
      ["-i", "0.2", "-o", "-", "--sysfs", dmiRoot("kvm"), "--", "sleep", "3"],
      {
        env: cloudEnv(hole.url),
      },
    );
    strictEqual(r.code, 0, r.stderr);
    const samples = jsonLines(r.stdout) as unknown as Sample[];
    ok(samples.length >= 3, `samples: ${samples.length}`);
    ok(hole.hits.length > 0, "the race did reach the (loopback) metadata address");
    // The race never answers, so it ends by its own 2.5 s deadline: a first sample that waited
    // for it would come >= 2.5 s after the race's first connection. It is due one interval
    // (0.2 s) after the baseline; 2 s leaves room for a loaded machine, not for the race.
    const after = samples[0]!.timestamp_ms - hole.firstHitMs()!;
    ok(after < 2000, `first sample ${after} ms after the race began`);
    assertSampleTiming(samples.slice(0, -1), 200); // the last one: the partial interval at exit
  } finally {
    await hole.close();
  }
});

Deno.test("`cloud` finds Hetzner from DMI and a loopback metadata service; --no-cloud sends nothing", async () => {
  const hits: string[] = [];
  const fake = serve((req) => {
    hits.push(new URL(req.url).pathname);
    return new URL(req.url).pathname === "/hetzner/v1/metadata"
      ? text("instance-id: 42\nregion: fsn1\navailability-zone: fsn1-dc14\n")
      : text("not found", 404);
  });
  try {
    const r = await runCli(["cloud", "--sysfs", dmiRoot("hetzner")], { env: cloudEnv(fake.url) });
    strictEqual(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout);
    strictEqual(d.info.cloud_vendor_id, "hcloud");
    strictEqual(d.info.cloud_region_id, "fsn1");
    strictEqual(d.info.cloud_instance_type, null);
    ok(hits.length > 0);
    hits.length = 0;
    const off = await runCli(["cloud", "--no-cloud", "--sysfs", dmiRoot("hetzner")], {
      env: cloudEnv(fake.url),
    });
    strictEqual(off.code, 0, off.stderr);
    strictEqual(JSON.parse(off.stdout).source, "disabled");
    deepStrictEqual(hits, []);
  } finally {
    await fake.close();
  }
});

Deno.test("GPUs from the fake nvidia-smi: gpu[], CSV GPU columns, host-wide process fields", async () => {
  const args = [
    "--procfs",
    `${GPU_DATA}/nvidia/proc`,
    "--sysfs",
    `${GPU_DATA}/nvidia/sys`,
    "-i",
    "0.5",
  ];
  const env = { TRACKER_NVIDIA_SMI: `${GPU_DATA}/nvidia-smi-fake` };
  // The first reading arrives in the background (three nvidia-smi runs; seconds on a loaded
  // machine) and never holds a sample up: samples before it have no GPU, every one after has.
  const r = await runCli([...args, "--samples", "8", "-o", "-"], { env });
  strictEqual(r.code, 0, r.stderr);
  const samples = jsonLines(r.stdout) as unknown as Sample[];
  const first = samples.findIndex((s) => s.gpu.length > 0);
  ok(first >= 0, "no GPU reading in 8 samples");
  ok(samples.slice(first).every((s) => s.gpu.length === 2), "a reading went missing");
  const last = samples.at(-1)!;
  deepStrictEqual(last.gpu.map((g) => g.name), ["NVIDIA A100-SXM4-80GB", "NVIDIA A100-SXM4-80GB"]);
  strictEqual(last.gpu[0]!.utilization_pct, 87);
  strictEqual(last.gpu[0]!.vram_used_bytes, 40500 * 1048576);
  ok(last.cpu.process_gpu_utilized !== null, "host-wide GPU process fields without a tracked PID");
  const csv = await runCli([...args, "--samples", "8", "-o", "-", "-f", "csv"], { env });
  const rows = csv.stdout.slice(CSV_HEADER.length).trimEnd().split("\n").map((l) => l.split(","));
  const row = rows.at(-1)!;
  ok(rows.some((r) => r[18] !== "0.0000"), "no GPU reading in 8 CSV rows");
  strictEqual(row[18], "0.8700"); // Σ utilization / 100
  strictEqual(row[20], "1"); // GPUs with utilisation > 0
});

Deno.test("AMD GPUs from a fixture sysfs tree; `host` reports the GPU facts", async () => {
  const args = ["--procfs", `${GPU_DATA}/amd/proc`, "--sysfs", `${GPU_DATA}/amd/sys`];
  const r = await runCli([...args, "-i", "0.2", "--samples", "2", "-o", "-"]);
  strictEqual(r.code, 0, r.stderr);
  const s = (jsonLines(r.stdout) as unknown as Sample[]).at(-1)!;
  ok(s.gpu.length >= 2, `AMD devices: ${s.gpu.length}`);
  ok(s.gpu.every((g) => g.device_type === "GPU" && g.vram_total_bytes > 0));
  const host = await runCli(["host", ...args]);
  strictEqual(host.code, 0, host.stderr);
  const h = JSON.parse(host.stdout);
  strictEqual(h.host_gpu_count, s.gpu.length);
  ok(h.host_gpu_memory_mib > 0 && typeof h.host_gpu_model === "string");
});
