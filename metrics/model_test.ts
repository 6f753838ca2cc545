/**
 * The metric model on a sample whose truth is known: units converted (MiB → bytes, % → ratio,
 * MHz → Hz), counters summed from per-interval deltas, unknown values absent, names after the
 * Prometheus conventions, and an exposition that escapes what it must.
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import type { Sample } from "../base/sample.ts";
import { makeSample } from "../tests/fakes/samples.ts";
import { Accumulator, frameOf, identityLabels, METRICS, promName } from "./model.ts";
import { exposition } from "./prometheus.ts";

function tracked(i: number): Sample {
  const s = makeSample(i, 4242);
  return {
    ...s,
    cpu: {
      ...s.cpu,
      process_cores_used: 0.75,
      process_child_count: 3,
      process_utime_secs: 0.5,
      process_stime_secs: 0.25,
      process_pss_mib: 100,
      process_rss_mib: 120,
      process_disk_read_bytes: 4096,
      process_disk_write_bytes: 8192,
    },
    gpu: [{
      uuid: "GPU-abc",
      name: "NVIDIA H100",
      device_type: "GPU",
      host_id: "0",
      detail: {},
      utilization_pct: 40,
      vram_total_bytes: 80 * 2 ** 30,
      vram_used_bytes: 2 ** 30,
      vram_used_pct: 1.25,
      temperature_celsius: 61,
      power_watts: 300.5,
      frequency_mhz: 1980,
      core_count: null,
    }],
  };
}

const value = (f: ReturnType<typeof frameOf>, k: string, a: Record<string, string> = {}) =>
  f.p.find((p) => p.k === k && Object.entries(a).every(([ak, av]) => p.a?.[ak] === av))?.v;

Deno.test("frames: units converted, counters summed since the start, unknowns absent", () => {
  const acc = new Accumulator();
  frameOf(tracked(0), acc);
  frameOf(tracked(1), acc);
  const f = frameOf(tracked(2), acc);
  equal(f.t, tracked(2).timestamp_ms);
  equal(value(f, "cpuTime", { "cpu.mode": "user" }), 1.5); // 3 × 0.5 s
  equal(value(f, "cpuTime", { "cpu.mode": "system" }), 0.75);
  equal(value(f, "pCpuTime", { "cpu.mode": "user" }), 1.5);
  equal(value(f, "pDiskIo", { "disk.io.direction": "write" }), 3 * 8192);
  equal(value(f, "pRss"), 120 * 1048576);
  equal(value(f, "memLimit"), 4096 * 1048576);
  equal(value(f, "memUtil"), 0.5);
  equal(value(f, "cpuUtil"), 0.75); // 1.5 busy cores of 2
  equal(value(f, "gpuUtil", { "hw.id": "GPU-abc" }), 0.4);
  equal(value(f, "gpuFreq"), 1980e6);
  equal(value(f, "samples"), 3);
  // No cgroup counter, no swap: no point rather than a made-up zero.
  equal(value(f, "cgroupCpuTime"), undefined);
  equal(value(f, "swapUsage"), undefined);
  // System-only: no tree series at all.
  const sys = frameOf(makeSample(0), new Accumulator());
  const tree = sys.p.filter((p) => /^(resource_tracker\.)?process\./.test(METRICS[p.k].otel));
  deepStrictEqual(tree, []);
});

Deno.test("Prometheus names: unit suffixes, _total exactly on counters, snake_case", () => {
  for (const def of Object.values(METRICS)) {
    const name = promName(def);
    match(name, /^resource_tracker_[a-z0-9_]+$/);
    equal(name.endsWith("_total"), def.type === "counter", name);
    if (def.unit === "By") ok(/_bytes(_total)?$/.test(name), name);
    if (def.unit === "s") ok(/_seconds(_total)?$/.test(name), name);
    if (def.unit === "1") ok(name.endsWith("_ratio"), name);
    ok(!/_count$/.test(name), name);
  }
  deepStrictEqual(new Set(Object.values(METRICS).map(promName)).size, Object.keys(METRICS).length);
});

Deno.test("exposition: identity labels on every series, escaped values, OpenMetrics EOF", () => {
  const labels = identityLabels({
    metadata: { job_name: 'etl "nightly"\nrun', project_name: null, env: "prod" },
    tags: { "cost-center": "a\\b" },
  });
  deepStrictEqual(labels, {
    job_name: 'etl "nightly"\nrun',
    env: "prod",
    "tag_cost_center": "a\\b",
  });
  const f = frameOf(tracked(1), new Accumulator());
  const text = exposition(f, { openMetrics: false, labels, info: { version: "1.2.3" } });
  const series = text.split("\n").filter((l) => l && !l.startsWith("#"));
  ok(series.length > 20);
  for (const l of series) {
    ok(l.includes('job_name="etl \\"nightly\\"\\nrun",env="prod",tag_cost_center="a\\\\b"'), l);
  }
  match(text, /^resource_tracker_hw_gpu_memory_limit_bytes\{.*hw_id="GPU-abc".*\} 85899345920$/m);
  match(text, /^resource_tracker_process_memory_pss_bytes\{.*\} 104857600$/m);
  const om = exposition(f, { openMetrics: true, labels: {}, info: { version: "1.2.3" } });
  ok(om.endsWith("# EOF\n"));
  match(om, /^# TYPE resource_tracker_process_cpu_time_seconds counter$/m);
  match(om, /^resource_tracker_process_cpu_time_seconds_total\{cpu_mode="user"\} 0\.5$/m);
});
