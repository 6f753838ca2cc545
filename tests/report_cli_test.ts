/**
 * `report`, `report --compare` and `replay` through the real CLI, and the report opened in
 * headless Chromium with no network, as a person would.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { findChromium, openInChromium } from "./chromium.ts";
import { jsonLines, runCli, treeArgs } from "./helpers.ts";
import { synthSamples, toCsv, toJsonl, toPythonCsv } from "./synth_run.ts";

const CHROMIUM = findChromium();
if (!CHROMIUM) {
  console.log("SKIP report browser checks: chromium is not installed (.ci/run installs it)");
}

/** 24 h at 1 s: a CPU wave, memory growth, I/O bursts. */
function dayRun() {
  return synthSamples({
    samples: 86_400,
    intervalSecs: 1,
    vcpus: 4,
    hostMemMib: 16384,
    cores: (i) => 1.5 + Math.sin(i / 600) + (i % 3600 === 0 ? 1 : 0),
    pssMib: (i) => 500 + i / 100,
    io: (i) => [i % 60 < 5 ? 20e6 : 0, 1e5],
  });
}

Deno.test("report: a 24 h recording at 1 s → one HTML < 5 MB that draws every chart in < 5 s, offline", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rt-report-cli-" });
  await Deno.writeTextFile(`${dir}/day.csv`, toCsv(dayRun(), 1));
  const t0 = performance.now();
  // TRACKER_OUTPUT names sample files, never the report.
  const r = await runCli(["report", `${dir}/day.csv`], {
    env: { TRACKER_OUTPUT: `${dir}/not-this.html` },
  });
  const genMs = performance.now() - t0;
  strictEqual(r.code, 0, r.stderr);
  ok(r.stdout.startsWith("Recommend "), r.stdout);
  ok(r.stdout.includes(`report written to ${dir}/day.html`));
  const size = (await Deno.stat(`${dir}/day.html`)).size;
  console.log(
    `24 h CSV (86 400 samples): report in ${genMs.toFixed(0)} ms, HTML ${
      (size / 1e6).toFixed(2)
    } MB`,
  );
  ok(size < 5e6, `HTML is ${size} bytes`);
  ok(!(await Deno.stat(`${dir}/not-this.html`).catch(() => null)));
  strictEqual((await Deno.stat(`${dir}/day.html`)).mode! & 0o777, 0o600);
  if (!CHROMIUM) return;
  const page = await openInChromium(`file://${dir}/day.html`, {
    screenshot: !!Deno.env.get("REPORT_SCREENSHOT"),
  });
  console.log(`chromium: loaded and drawn in ${page.loadMs.toFixed(0)} ms`);
  deepStrictEqual(page.errors, []);
  deepStrictEqual(page.network, []);
  deepStrictEqual(page.charts.map((c) => c.id), [
    "chart-cpu",
    "chart-memory",
    "chart-hostmemory",
    "chart-disk",
    "chart-network",
    "chart-energy",
  ]);
  for (const c of page.charts) ok(c.pixels > 1000, `${c.id} is blank (${c.pixels} pixels)`);
  ok(page.loadMs < 5000, `took ${page.loadMs} ms`);
  const shot = Deno.env.get("REPORT_SCREENSHOT");
  if (shot && page.screenshot) await Deno.writeFile(shot, page.screenshot);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("report: Python tracker CSV; -o names the HTML; bad input is one line, exit 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rt-report-cli-" });
  const xs = synthSamples({ samples: 120, intervalSecs: 1, cores: () => 0.01, pssMib: () => 20 });
  await Deno.writeTextFile(`${dir}/py.csv`, toPythonCsv(xs));
  const r = await runCli(["report", `${dir}/py.csv`, "-o", `${dir}/mine.html`]);
  strictEqual(r.code, 0, r.stderr);
  ok(r.stdout.includes("Recommend 1 vCPU, 512 MiB memory, no GPU"), r.stdout);
  ok(r.stdout.includes("mostly idle"), r.stdout);
  ok(r.stdout.includes("recommend_resources() would say 1 vCPU(s) and 128 MiB"), r.stdout);
  const html = await Deno.readTextFile(`${dir}/mine.html`);
  ok(html.includes("python-csv"));
  ok(!/(src|href)=["']?https?:/i.test(html), "the report links to the network");
  const bad = await runCli(["report", `${dir}/nope.jsonl`]);
  strictEqual(bad.code, 2);
  strictEqual(bad.stderr.trim().split("\n").length, 1);
  ok(bad.stderr.includes("nope.jsonl: no such file"), bad.stderr);
  const flag = await runCli(["report", `${dir}/py.csv`, "--price-per-hour", "cheap"]);
  strictEqual(flag.code, 2);
  ok(flag.stderr.includes("--price-per-hour"), flag.stderr);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("report --compare: side by side with % change", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rt-report-cli-" });
  const a = synthSamples({ samples: 60, intervalSecs: 1, cores: () => 1, pssMib: () => 1000 });
  const b = synthSamples({ samples: 60, intervalSecs: 1, cores: () => 1, pssMib: () => 1300 });
  await Deno.writeTextFile(`${dir}/a.jsonl`, toJsonl(a));
  await Deno.writeTextFile(`${dir}/b.jsonl`, toJsonl(b));
  const r = await runCli([
    "report",
    "--compare",
    `${dir}/a.jsonl`,
    `${dir}/b.jsonl`,
    "-o",
    `${dir}/cmp.html`,
  ]);
  strictEqual(r.code, 0, r.stderr);
  ok(/memory peak\s+1000 MiB → 1.3 GiB\s+\(\+30 %\)/.test(r.stdout), r.stdout);
  ok(/CPU mean\s+1.00 cores → 1.00 cores\s+\(same\)/.test(r.stdout), r.stdout);
  if (CHROMIUM) {
    const page = await openInChromium(`file://${dir}/cmp.html`);
    deepStrictEqual(page.errors, []);
    strictEqual(page.charts.length, 2);
    for (const c of page.charts) ok(c.pixels > 1000);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a tracked run writes FILE.run.json; replay sends the samples unchanged to a sink", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rt-report-cli-" });
  const run = await runCli([
    "-i",
    "0.2",
    "-o",
    `${dir}/run.jsonl`,
    "--job-name",
    "demo",
    "--",
    "sh",
    "-c",
    "sleep 0.7",
  ]);
  strictEqual(run.code, 0, run.stderr);
  ok(run.stderr.includes("  Recommend 1 vCPU, 512 MiB memory"), run.stderr);
  ok(run.stderr.includes("rule: vCPUs = p95 of cores used × 1.2"), run.stderr);
  const side = JSON.parse(await Deno.readTextFile(`${dir}/run.jsonl.run.json`));
  strictEqual(side.resource_tracker_run, 1);
  deepStrictEqual(side.command, ["sh", "-c", "sleep 0.7"]);
  strictEqual(side.metadata.job_name, "demo");
  ok(side.host.host_vcpus >= 1);
  strictEqual((await Deno.stat(`${dir}/run.jsonl.run.json`)).mode! & 0o777, 0o600);

  const rep = await runCli(["report", `${dir}/run.jsonl`]);
  strictEqual(rep.code, 0, rep.stderr);
  const html = await Deno.readTextFile(`${dir}/run.html`);
  ok(html.includes("sh -c sleep 0.7") && html.includes("demo"));

  const replay = await runCli(["replay", `${dir}/run.jsonl`, "--sink", `${dir}/copy.jsonl`]);
  strictEqual(replay.code, 0, replay.stderr);
  deepStrictEqual(
    jsonLines(await Deno.readTextFile(`${dir}/copy.jsonl`)),
    jsonLines(await Deno.readTextFile(`${dir}/run.jsonl`)),
  );
  await Deno.writeTextFile(`${dir}/run.csv`, "timestamp,system_cpu_usage\n1,0\n");
  const csv = await runCli(["replay", `${dir}/run.csv`, "--sink", `${dir}/x.jsonl`]);
  strictEqual(csv.code, 2);
  ok(csv.stderr.includes("run.csv is not JSON Lines"), csv.stderr);
  const noSink = await runCli(["replay", `${dir}/run.jsonl`]);
  strictEqual(noSink.code, 2);
  ok(noSink.stderr.includes("--sink"), noSink.stderr);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("energy through the CLI: a host with RAPL gets `energy` in every JSON sample; report says measured", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rt-energy-cli-" });
  const fixture = new URL("./fixtures/vm-basic", import.meta.url).pathname;
  const rapl =
    new URL("../collectors/energy/testdata/rapl/class/powercap", import.meta.url).pathname;
  await new Deno.Command("cp", { args: ["-r", fixture, `${dir}/host`] }).output();
  await new Deno.Command("cp", { args: ["-r", rapl, `${dir}/host/sys/class/powercap`] }).output();
  const h = `${dir}/host`;
  const r = await runCli([
    ...treeArgs(h),
    "--no-gpu",
    "--samples",
    "3",
    "-i",
    "0.2",
    "-o",
    `${dir}/run.jsonl`,
  ], { env: { XDG_STATE_HOME: `${dir}/state` } });
  strictEqual(r.code, 0, r.stderr);
  const samples = jsonLines(await Deno.readTextFile(`${dir}/run.jsonl`));
  strictEqual(samples.length, 3);
  const life = `${dir}/state/resource-tracker/energy-lifetime.json`;
  strictEqual((await Deno.stat(life)).mode! & 0o777, 0o600);
  strictEqual(JSON.parse(await Deno.readTextFile(life)).devices["rapl:package-0@intel-rapl:0"], 0);
  for (const s of samples) {
    const e = s.energy as { method: string; joules: number; devices: Record<string, number> };
    strictEqual(e.method, "measured");
    deepStrictEqual(Object.keys(e.devices).sort(), [
      "rapl:dram@intel-rapl:0:1",
      "rapl:package-0@intel-rapl:0",
      "rapl:package-1@intel-rapl:1",
    ]);
    strictEqual(e.joules, 0); // the fixture's counters do not move
  }
  const side = JSON.parse(await Deno.readTextFile(`${dir}/run.jsonl.run.json`));
  strictEqual(side.energy.domains.length, 3);
  const rep = await runCli(["report", `${dir}/run.jsonl`]);
  strictEqual(rep.code, 0, rep.stderr);
  const html = await Deno.readTextFile(`${dir}/run.html`);
  ok(html.includes("measured (±10 %)"), "report labels the energy measured");
  // Without counters (this VM) the same report says estimated.
  const plain = samples.map((s) => JSON.stringify({ ...s, energy: undefined })).join("\n") + "\n";
  await Deno.writeTextFile(`${dir}/plain.jsonl`, plain);
  strictEqual((await runCli(["report", `${dir}/plain.jsonl`])).code, 0);
  ok((await Deno.readTextFile(`${dir}/plain.html`)).includes("estimated (±50 %)"));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("report cost: the price table is matched with the run record's cloud and instance type", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rt-report-cost-" });
  const xs = synthSamples({
    samples: 1800,
    intervalSecs: 2,
    vcpus: 8,
    hostMemMib: 32768,
    cores: () => 1,
    pssMib: () => 1500,
  });
  await Deno.writeTextFile(`${dir}/run.jsonl`, toJsonl(xs));
  await Deno.writeTextFile(
    `${dir}/run.jsonl.run.json`,
    JSON.stringify({
      resource_tracker_run: 1,
      cloud: {
        cloud_vendor_id: "aws",
        cloud_instance_type: "m5.2xlarge",
        cloud_region_id: "eu-west-1",
      },
    }),
  );
  await Deno.writeTextFile(
    `${dir}/prices.csv`,
    "vendor,instance_type,price_per_hour,vcpus,memory_gib\naws,m5.2xlarge,0.40,8,32\naws,m5.large,0.10,2,8\n",
  );
  const r = await runCli(["report", `${dir}/run.jsonl`], {
    env: { TRACKER_PRICE_TABLE: `${dir}/prices.csv`, TRACKER_CURRENCY: "EUR" },
  });
  strictEqual(r.code, 0, r.stderr);
  const html = await Deno.readTextFile(`${dir}/run.html`);
  // 1 h at 0.40/h; the recommendation (2 vCPUs, 2 GiB) fits m5.large: 0.10, saving 0.30 (75 %).
  ok(html.includes("0.40000 EUR per hour (price table: aws m5.2xlarge)"), "price");
  ok(html.includes("0.10000 EUR on m5.large"), "recommended");
  ok(html.includes("0.30000 EUR (75 %)"), "saving");
  const missing = await runCli(["report", `${dir}/run.jsonl`, "--price-table", `${dir}/nope.csv`]);
  strictEqual(missing.code, 2);
  ok(
    missing.stderr.includes("--price-table") && missing.stderr.includes("no such file"),
    missing.stderr,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("report on a GPU run: GPU use, VRAM and power charts draw; GPUs and VRAM recommended", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rt-report-gpu-" });
  const xs = synthSamples({
    samples: 120,
    intervalSecs: 1,
    vcpus: 16,
    hostMemMib: 65536,
    cores: () => 1,
    pssMib: () => 4000,
  });
  for (const [i, s] of xs.entries()) {
    const busy = i % 10 < 8 ? 95 : 10;
    s.gpu = [0, 1].map((k) => ({
      uuid: `GPU-${k}`,
      name: "NVIDIA H100 80GB HBM3",
      device_type: "GPU" as const,
      host_id: String(k),
      detail: { driver_version: "550.54" },
      utilization_pct: k === 0 ? busy : 0,
      vram_total_bytes: 80 * 1024 ** 3,
      vram_used_bytes: k === 0 ? 30 * 1024 ** 3 : 0,
      vram_used_pct: k === 0 ? 37.5 : 0,
      temperature_celsius: 60,
      power_watts: k === 0 ? 100 + busy * 5 : 70,
      frequency_mhz: 1980,
      core_count: null,
    }));
    Object.assign(s.cpu, {
      process_gpu_usage: busy / 100,
      process_gpu_vram_mib: 30 * 1024,
      process_gpu_utilized: 1,
    });
  }
  await Deno.writeTextFile(`${dir}/gpu.jsonl`, toJsonl(xs));
  const r = await runCli(["report", `${dir}/gpu.jsonl`]);
  strictEqual(r.code, 0, r.stderr);
  ok(r.stdout.startsWith("Recommend 2 vCPUs, 8 GiB memory, 1 GPU (≥ 36 GiB VRAM)"), r.stdout);
  ok(r.stdout.includes("VRAM peaked at 30 GiB of 160 GiB"), r.stdout);
  if (CHROMIUM) {
    const page = await openInChromium(`file://${dir}/gpu.html`);
    deepStrictEqual(page.errors, []);
    const ids = page.charts.map((c) => c.id);
    for (const id of ["chart-gpu", "chart-vram", "chart-gpupower"]) {
      ok(ids.includes(id), ids.join());
    }
    for (const c of page.charts) ok(c.pixels > 1000, `${c.id} blank`);
  }
  await Deno.remove(dir, { recursive: true });
});
