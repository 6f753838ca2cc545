import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { gzipSync, zstdCompressSync } from "node:zlib";
import { type Shape, synthSamples, toCsv, toJsonl, toPythonCsv } from "../tests/synth_run.ts";
import { usageOf } from "./analyze.ts";
import { parsePriceTable, runCost } from "./cost.ts";
import { runEnergy } from "./energy.ts";
import { pythonRecommendation } from "./python_rule.ts";
import { readRecording, splitCsv } from "./read.ts";
import { recommend, roundUp, VCPU_SIZES } from "./recommend.ts";
import { runStats } from "./stats.ts";

async function dir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "rt-report-" });
}

async function recOf(text: string | Uint8Array, name = "run.jsonl") {
  const d = await dir();
  const p = `${d}/${name}`;
  if (typeof text === "string") await Deno.writeTextFile(p, text);
  else await Deno.writeFile(p, text);
  return await readRecording([p]);
}

/** The recommendation for a synthetic run of 1 s samples shaped by `s`. */
async function recommendFor(s: Omit<Shape, "intervalSecs">) {
  return recommend(usageOf(await recOf(toJsonl(synthSamples({ intervalSecs: 1, ...s })))));
}

const pythonRecommendedMemoryMib = (peakMib: number) => pythonRecommendation(1, peakMib).memoryMib;

Deno.test("CPU-bound: 1.94 of 2 cores for 62 % of the run → next size up, stated", async () => {
  const rec = await recommendFor({
    samples: 100,
    vcpus: 2,
    cores: (i) => (i < 62 ? 1.94 : 1.0),
    pssMib: () => 700,
  });
  deepStrictEqual(rec.verdicts.includes("cpu-bound"), true);
  strictEqual(rec.vcpus, 4);
  ok(
    rec.evidence.includes(
      "used 1.94 of 2 cores for 62 % of the run: CPU-bound, more cores would help",
    ),
    rec.evidence.join("\n"),
  );
});

Deno.test("memory: peak × 1.2 rounded up in GiB — not the Python tracker's 128 MiB", async () => {
  const rec = await recommendFor({
    samples: 60,
    hostMemMib: 32768,
    cores: () => 0.5,
    pssMib: (i) => (i === 30 ? 3000 : 1500),
  });
  strictEqual(rec.memoryMib, 4096); // 3000 × 1.2 = 3600 MiB → 4 GiB
  strictEqual(pythonRecommendedMemoryMib(3000), 128); // the bug this replaces
  ok(rec.evidence.some((l) => l.includes("peaked at 2.9 GiB (9 % of the host's 32 GiB) → 4 GiB")));
  strictEqual(rec.vcpus, 1); // p95 0.5 × 1.2 = 0.6 → 1
});

Deno.test("memory-bound: a peak at 93 % of the host → more than the host has", async () => {
  const rec = await recommendFor({
    samples: 30,
    hostMemMib: 8192,
    cores: () => 0.3,
    pssMib: () => 7600,
  });
  ok(rec.verdicts.includes("memory-bound"), rec.verdicts.join());
  strictEqual(rec.memoryMib, 16384);
});

Deno.test("idle job: smallest size, says why", async () => {
  const rec = await recommendFor({
    samples: 30,
    vcpus: 8,
    cores: () => 0.01,
    pssMib: () => 3,
  });
  deepStrictEqual([rec.vcpus, rec.memoryMib, rec.gpus], [1, 512, 0]);
  ok(rec.verdicts.includes("idle"));
  ok(rec.verdicts.includes("oversized"));
});

Deno.test("I/O-bound: quiet CPU while the disks move 50 MB/s", async () => {
  const rec = await recommendFor({
    samples: 30,
    cores: () => 0.2,
    pssMib: () => 50,
    io: () => [0, 50e6],
  });
  ok(rec.verdicts.includes("io-heavy"), rec.evidence.join("\n"));
  ok(rec.evidence.some((l) => l.includes("I/O-bound, faster storage would help more than cores")));
});

Deno.test("single-threaded on 4 cores: more cores would not help", async () => {
  const rec = await recommendFor({
    samples: 30,
    vcpus: 4,
    cores: () => 1.0,
    pssMib: () => 100,
  });
  ok(rec.verdicts.includes("single-threaded"));
  strictEqual(rec.vcpus, 2);
});

Deno.test("time weighting: one long busy sample outweighs many short idle ones", async () => {
  const xs = synthSamples({
    samples: 11,
    intervalSecs: 1,
    vcpus: 16,
    cores: () => 0,
    pssMib: () => 1,
  });
  // 10 samples of 1 s idle, then one sample covering 90 s at 8 cores.
  xs[10]!.cpu.process_cores_used = 8;
  xs[10]!.actual_interval_ms = 90_000;
  xs[10]!.timestamp_ms = xs[9]!.timestamp_ms + 90_000;
  const r = await recOf(toJsonl(xs));
  const u = usageOf(r);
  strictEqual(u.cores.p95, 8);
  strictEqual(recommend(u).vcpus, 16);
  ok(Math.abs(runStats(r).cpuSecs - 720) < 1e-6);
});

Deno.test("the same run read from JSON Lines, our CSV and the Python CSV agrees", async () => {
  const xs = synthSamples({
    samples: 50,
    intervalSecs: 1,
    cores: (i) => (i % 10) / 5,
    pssMib: (i) => 100 + i * 10,
    io: (i) => [i * 1000, 5000],
  });
  const j = await recOf(toJsonl(xs));
  const c = await recOf(toCsv(xs, 1), "run.csv");
  const p = await recOf(toPythonCsv(xs), "py.csv");
  strictEqual(j.format, "jsonl");
  strictEqual(c.format, "csv");
  strictEqual(p.format, "python-csv");
  for (const r of [c, p]) {
    const a = runStats(j), b = runStats(r);
    strictEqual(b.samples, 50);
    ok(Math.abs(a.cpuSecs - b.cpuSecs) < 0.01, `${a.cpuSecs} vs ${b.cpuSecs}`);
    ok(Math.abs(a.memoryMib.max - b.memoryMib.max) < 1);
    ok(
      Math.abs(a.diskWriteBytes - b.diskWriteBytes) <= 50,
      `${a.diskWriteBytes} ${b.diskWriteBytes}`,
    );
    deepStrictEqual(
      [recommend(usageOf(r)).vcpus, recommend(usageOf(r)).memoryMib],
      [recommend(usageOf(j)).vcpus, recommend(usageOf(j)).memoryMib],
    );
  }
  // Python's file has no host size: estimated from free + used + buffers + cached.
  strictEqual(p.host.memorySource, "estimated");
  strictEqual(j.host.memorySource, "samples");
});

Deno.test("rotated pieces in any order, .gz and .zst, overlap dropped; sidecar of the base name", async () => {
  const xs = synthSamples({ samples: 30, intervalSecs: 1, cores: () => 1, pssMib: (i) => i });
  const d = await dir();
  await Deno.writeFile(
    `${d}/out.2.jsonl.gz`,
    gzipSync(new TextEncoder().encode(toJsonl(xs.slice(0, 12)))),
  );
  await Deno.writeFile(
    `${d}/out.1.jsonl.zst`,
    zstdCompressSync(new TextEncoder().encode(toJsonl(xs.slice(10, 20)))),
  );
  await Deno.writeTextFile(
    `${d}/out.jsonl`,
    toJsonl(xs.slice(20)) + '{"timestamp_ms": 1, "cpu": {',
  );
  await Deno.writeTextFile(
    `${d}/out.jsonl.run.json`,
    JSON.stringify({ resource_tracker_run: 1, command: ["make"], host: { host_vcpus: 2 } }),
  );
  const r = await readRecording([`${d}/out.jsonl`, `${d}/out.1.jsonl.zst`, `${d}/out.2.jsonl.gz`]);
  strictEqual(r.cols.t.length, 30);
  deepStrictEqual(r.files.map((f) => f.slice(d.length + 1)), [
    "out.2.jsonl.gz",
    "out.1.jsonl.zst",
    "out.jsonl",
  ]);
  deepStrictEqual(r.run?.command, ["make"]);
  ok(r.notes.some((n) => n.includes("2 sample(s) with a timestamp already read")));
  ok(r.notes.some((n) => n.includes("1 unreadable line(s) skipped")));
});

Deno.test("bad input: one clear error naming the file", async () => {
  const d = await dir();
  await Deno.writeTextFile(`${d}/x.csv`, "a,b\n1,2\n");
  await readRecording([`${d}/x.csv`]).then(
    () => ok(false),
    (e) => ok(/x\.csv: not a resource-tracker CSV/.test(e.message)),
  );
  await readRecording([`${d}/missing.jsonl`]).then(
    () => ok(false),
    (e) => ok(/missing\.jsonl: no such file/.test(e.message)),
  );
});

Deno.test("CSV splitting: Python quoting and empty fields", () => {
  deepStrictEqual(splitCsv('"a","b ""c""",,1'), ["a", 'b "c"', "", "1"]);
  deepStrictEqual(splitCsv("1,,2,"), ["1", "", "2", ""]);
});

Deno.test("sizes: rounding up to what clouds sell", () => {
  deepStrictEqual([0.1, 1, 1.2, 2.4, 17, 600].map((x) => roundUp(x, VCPU_SIZES)), [
    1,
    1,
    2,
    4,
    32,
    1024,
  ]);
});

Deno.test("cost: table matched by vendor and type; cheapest fitting row; saving", async () => {
  const table = parsePriceTable(
    "vendor,instance_type,price_per_hour,vcpus,memory_gib\naws,m5.2xlarge,0.384,8,32\naws,m5.large,0.096,2,8\naws,t3.medium,0.0416,2,4\ngcp,e2-small,0.01,2,2\n",
    "prices.csv",
  );
  const r = await recOf(
    toJsonl(synthSamples({
      samples: 3600,
      intervalSecs: 1,
      vcpus: 8,
      hostMemMib: 32768,
      cores: () => 1,
      pssMib: () => 1000,
    })),
  );
  const rec = recommend(usageOf(r));
  const c = runCost({
    durationSecs: 3600,
    pricePerHour: null,
    table,
    vendor: "aws",
    instanceType: "m5.2xlarge",
    host: { vcpus: 8, memoryMib: 32768 },
    rec,
    currency: "USD",
  });
  strictEqual(c.pricePerHour, 0.384);
  strictEqual(c.recommended?.instanceType, "t3.medium"); // 2 vCPUs, 4 GiB ≥ 2 vCPUs, 2 GiB; gcp excluded
  ok(Math.abs(c.saving! - (0.384 - 0.0416)) < 1e-9);
  // Without a table: pro rata, labelled an estimate.
  const p = runCost({
    durationSecs: 1800,
    pricePerHour: 1,
    table: null,
    vendor: null,
    instanceType: null,
    host: { vcpus: 8, memoryMib: 32768 },
    rec,
    currency: "EUR",
  });
  strictEqual(p.runCost, 0.5);
  ok(p.recommended!.basis.startsWith("estimate"));
  try {
    parsePriceTable("instance_type,price_per_hour\nx,cheap\n", "bad.csv");
    ok(false);
  } catch (e) {
    ok(/--price-table bad\.csv: row 1: price_per_hour "cheap"/.test((e as Error).message));
  }
});

Deno.test("energy: measured joules summed (bad ones skipped); estimate labelled with its basis", async () => {
  const xs = synthSamples({
    samples: 4,
    intervalSecs: 1,
    vcpus: 2,
    hostMemMib: 1024,
    cores: () => 1,
    pssMib: () => 1,
    hostCores: () => 1,
  });
  const joules = [50, 50, -1, 200_000];
  const measured = xs.map((s, i) => ({
    ...s,
    energy: { joules: joules[i]!, watts: 0, method: "measured" as const, devices: {} },
  }));
  const m = runEnergy(await recOf(toJsonl(measured)));
  strictEqual(m.method, "measured");
  // Negative and > 100 kW (200 kJ in 1 s) readings contribute nothing.
  strictEqual(m.joules, 100);
  strictEqual(m.kwh, 100 / 3.6e6);
  strictEqual(m.uncoveredSecs, 2);
  const e = runEnergy(await recOf(toJsonl(xs)));
  strictEqual(e.method, "estimated");
  strictEqual(e.uncertainty, 0.5);
  // 2 vCPUs at half load: 2 × (0.74 + 2.76 × 0.5) + 1 GiB × 0.392 = 4.632 W over 4 s.
  ok(Math.abs(e.joules - 4.632 * 4) < 1e-9, String(e.joules));
  ok(e.basis.includes("no energy counter was readable"));
});

Deno.test("contention: a busy host starving the job is said; an idle job on a busy host is not", async () => {
  const busy = (cores: number) =>
    recOf(toJsonl(synthSamples({
      samples: 40,
      intervalSecs: 1,
      vcpus: 2,
      cores: () => cores,
      hostCores: () => 2,
      pssMib: () => 10,
    })));
  const starved = recommend(usageOf(await busy(0.4)));
  ok(starved.verdicts.includes("cpu-contended"), starved.verdicts.join());
  strictEqual(starved.vcpus, 2); // not shrunk below the host: what it needs alone is unknown
  ok(
    starved.evidence.some((l) =>
      l.startsWith("all 2 cores of the host were busy for 100 % of the run")
    ),
  );
  const idle = recommend(usageOf(await busy(0.01)));
  deepStrictEqual(idle.verdicts.includes("cpu-contended"), false);
  ok(idle.verdicts.includes("idle"));
});

Deno.test("resource-tracker-rs JSON (no timestamp_ms, no `virtual`): same figures; dm-* not summed", async () => {
  const xs = synthSamples({
    samples: 20,
    intervalSecs: 1,
    cores: () => 0.5,
    pssMib: () => 64,
    io: () => [1e6, 0],
  });
  const rs = xs.map((s) => {
    const { timestamp_ms: _ms, ...rest } = s;
    const disk = s.disk.map(({ virtual: _v, ...d }) => d);
    // A device-mapper volume on top of vda repeats its I/O.
    disk.push({ ...disk[0]!, device: "dm-0" });
    return { ...rest, disk };
  });
  const a = runStats(await recOf(toJsonl(xs)));
  const b = runStats(await recOf(rs.map((s) => JSON.stringify(s)).join("\n") + "\n"));
  strictEqual(b.samples, 20);
  strictEqual(b.diskReadBytes, a.diskReadBytes);
  ok(Math.abs(a.cpuSecs - b.cpuSecs) < 1e-9);
});

Deno.test("a CFS quota below the host's size is what the job is measured against", async () => {
  const d = await dir();
  const xs = synthSamples({
    samples: 40,
    intervalSecs: 1,
    vcpus: 8,
    cores: () => 1.45,
    pssMib: () => 100,
  });
  await Deno.writeTextFile(`${d}/q.jsonl`, toJsonl(xs));
  await Deno.writeTextFile(
    `${d}/q.jsonl.run.json`,
    JSON.stringify({ resource_tracker_run: 1, cpu_quota_cores: 1.5 }),
  );
  const rec = recommend(usageOf(await readRecording([`${d}/q.jsonl`])));
  ok(rec.verdicts.includes("cpu-bound"), rec.evidence.join("\n"));
  ok(
    rec.evidence.includes(
      "used 1.45 of the 1.5-core CPU limit for 100 % of the run: CPU-bound, more cores would help",
    ),
    rec.evidence.join("\n"),
  );
  strictEqual(rec.vcpus, 2);
});
