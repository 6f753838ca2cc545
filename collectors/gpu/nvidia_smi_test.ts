import assert from "node:assert/strict";
import {
  parseComputeApps,
  parsePmon,
  parseQueryGpu,
  runCommand,
  smiSnapshot,
  SmiSource,
} from "./nvidia_smi.ts";
import { nvidiaProcessGpu } from "./process_gpu.ts";
import { readLog, testdata, wrapperScript } from "../../tests/fakes/gpu.ts";

const MIB = 1_048_576;
const FAKE = testdata("nvidia-smi-fake");
const HANG = testdata("nvidia-smi-hang");
const GARBAGE = testdata("nvidia-smi-garbage");

const GPU_LINE =
  "0, GPU-8f6e3a1c-2b4d-4e5f-9a7b-1c2d3e4f5a6b, NVIDIA A100-SXM4-80GB, 87, 81920, 40500, 61, 312.45, 1410, 550.54.15, 00000000:07:00.0";

Deno.test("parseQueryGpu: table of inputs", () => {
  const cases: [string, string, number][] = [
    ["empty", "", 0],
    ["one line", GPU_LINE, 1],
    ["CRLF and blank lines", `\n${GPU_LINE}\r\n\n`, 1],
    ["truncated line", GPU_LINE.slice(0, 60), 0],
    ["header line", "index, uuid, name, utilization.gpu [%], memory.total [MiB]", 0],
    ["garbage", "NVIDIA-SMI has failed because it couldn't communicate with the driver", 0],
    ["non-numeric index", GPU_LINE.replace(/^0/, "x"), 0],
  ];
  for (const [name, input, n] of cases) assert.equal(parseQueryGpu(input).length, n, name);

  const [g] = parseQueryGpu(GPU_LINE);
  assert.deepEqual(g, {
    uuid: "GPU-8f6e3a1c-2b4d-4e5f-9a7b-1c2d3e4f5a6b",
    name: "NVIDIA A100-SXM4-80GB",
    device_type: "GPU",
    host_id: "0",
    detail: { driver_version: "550.54.15", pci_bus_id: "00000000:07:00.0" },
    utilization_pct: 87,
    vram_total_bytes: 81920 * MIB,
    vram_used_bytes: 40500 * MIB,
    vram_used_pct: 40500 / 81920 * 100,
    temperature_celsius: 61,
    power_watts: 312.45,
    frequency_mhz: 1410,
    core_count: null,
  });
});

Deno.test("parseQueryGpu: [N/A] fields become 0 or are left out of detail", () => {
  const [g] = parseQueryGpu(
    "3, [N/A], Tesla T4, [N/A], 15360, [N/A], [N/A], [Not Supported], [N/A], [N/A], [N/A]",
  );
  assert.ok(g !== undefined);
  assert.equal(g.uuid, "nvidia-3");
  assert.deepEqual(g.detail, {});
  assert.equal(g.power_watts, 0);
  assert.equal(g.vram_used_bytes, 0);
  assert.equal(g.vram_used_pct, 0);
});

Deno.test("parseComputeApps: table of inputs", () => {
  const cases: [string, string, { pid: number; uuid: string; usedBytes: number | null }[]][] = [
    ["empty", "", []],
    ["one", "4242, GPU-a, 40000", [{ pid: 4242, uuid: "GPU-a", usedBytes: 40000 * MIB }]],
    ["N/A memory", "5000, GPU-b, [N/A]", [{ pid: 5000, uuid: "GPU-b", usedBytes: null }]],
    ["truncated", "4242, GPU-a", []],
    ["garbage", "No running processes found", []],
    ["bad pid", "abc, GPU-a, 1", []],
  ];
  for (const [name, input, want] of cases) assert.deepEqual(parseComputeApps(input), want, name);
});

Deno.test("parsePmon: headers, idle GPUs and '-' are skipped", () => {
  const out = [
    "# gpu         pid   type     sm    mem    enc    dec    jpg    ofa    command ",
    "# Idx           #    C/G      %      %      %      %      %      %    name ",
    "    0       4242     C     85     40      -      -      -      -    python ",
    "    0       4243   C+G      2      0      -      -      -      -    Xorg ",
    "    1       5000     C      -      -      -      -      -      -    python ",
    "    2          -     -      -      -      -      -      -      -    - ",
    "    3",
    "garbage line here",
  ].join("\n");
  assert.deepEqual(parsePmon(out), [
    { gpu: 0, pid: 4242, sm: 85 },
    { gpu: 0, pid: 4243, sm: 2 },
  ]);
  assert.deepEqual(parsePmon(""), []);
});

Deno.test("smiSnapshot joins apps by UUID and pmon by index", () => {
  const devices = parseQueryGpu(
    GPU_LINE + "\n" + GPU_LINE.replace(/^0/, "1").replace("8f6e", "ffff"),
  );
  const snap = smiSnapshot(
    devices,
    parseComputeApps("4242, GPU-8f6e3a1c-2b4d-4e5f-9a7b-1c2d3e4f5a6b, 100\n9, GPU-unknown, 5"),
    [{ gpu: 0, pid: 4242, sm: 85 }, { gpu: 7, pid: 1, sm: 1 }],
  );
  assert.deepEqual(nvidiaProcessGpu(snap, null), { usage: 0.85, vram_mib: 100, utilized: 1 });
});

Deno.test("runCommand: success, non-zero exit, not found", async () => {
  const ok = await runCommand(FAKE, ["--query-gpu=index", "--format=csv"], 10_000);
  assert.ok(ok.ok);
  assert.equal(parseQueryGpu(ok.stdout).length, 2);
  const bad = await runCommand(FAKE, ["--bogus"], 10_000);
  assert.deepEqual(bad, {
    ok: false,
    reason: "exited with code 2: fake nvidia-smi: unsupported arguments: --bogus",
  });
  const missing = await runCommand("/nonexistent/nvidia-smi", [], 10_000);
  assert.deepEqual(missing, { ok: false, reason: "not found", notFound: true });
});

/** Live processes (not zombies) in process group `pgid`. */
function liveInGroup(pgid: number): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(f[2]) === pgid && f[0] !== "Z") out.push(Number(e.name));
    } catch { /* exited */ }
  }
  return out;
}

Deno.test("runCommand: a hung child and its grandchild are killed at the timeout", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const script = await wrapperScript(dir, "nvidia-smi", `echo $$ > "${dir}/pid"\n"${HANG}"`);
    const t0 = performance.now();
    const r = await runCommand(script, ["--query-gpu=x"], 300);
    const took = performance.now() - t0;
    assert.deepEqual(r, { ok: false, reason: "timed out after 300 ms" });
    assert.ok(took < 5000, `took ${took} ms`);
    const pgid = Number(await Deno.readTextFile(`${dir}/pid`));
    // The orphaned `sleep` is reaped by init: allow it a moment on a loaded machine.
    for (let i = 0; i < 50 && liveInGroup(pgid).length > 0; i++) {
      await new Promise((res) => setTimeout(res, 20));
    }
    assert.deepEqual(liveInGroup(pgid), []);
    assert.deepEqual(await readLog(dir), ["start --query-gpu=x"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SmiSource: one child at a time, latest result served while a refresh runs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const script = await wrapperScript(dir, "nvidia-smi", `sleep 0.2\n"${FAKE}" "$@"`);
    const src = new SmiSource({ command: script, timeoutMs: 10_000, warn: assert.fail });
    assert.equal(src.snapshot(), null);
    for (let i = 0; i < 20; i++) src.kick();
    assert.equal(src.runs, 1);
    await src.refresh(); // joins the refresh in flight
    assert.equal(src.runs, 1);
    const log = await readLog(dir);
    assert.deepEqual(log, [
      "start --query-gpu=index,uuid,name,utilization.gpu,memory.total,memory.used,temperature.gpu,power.draw,clocks.gr,driver_version,pci.bus_id",
      "end --query-gpu=index,uuid,name,utilization.gpu,memory.total,memory.used,temperature.gpu,power.draw,clocks.gr,driver_version,pci.bus_id",
      "start --query-compute-apps=pid,gpu_uuid,used_memory",
      "end --query-compute-apps=pid,gpu_uuid,used_memory",
      "start pmon",
      "end pmon",
    ]);
    const snap = src.snapshot();
    assert.ok(snap !== null && src.present);
    assert.equal(snap.devices.length, 2);
    assert.deepEqual(nvidiaProcessGpu(snap, null), { usage: 0.87, vram_mib: 40480, utilized: 2 });
    assert.deepEqual(nvidiaProcessGpu(snap, new Set([4243])), {
      usage: 0.02,
      vram_mib: 480,
      utilized: 1,
    });
    src.kick(); // next refresh starts; the previous snapshot is still served
    assert.equal(src.snapshot(), snap);
    await src.close(); // kills the running child and reaps it
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SmiSource: garbage backs off, then gives up with exactly one warning", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const script = await wrapperScript(dir, "nvidia-smi", `"${GARBAGE}" "$@"`);
    let now = 0;
    const warnings: string[] = [];
    const src = new SmiSource({
      command: script,
      timeoutMs: 10_000,
      warn: (l) => warnings.push(l),
      maxFailures: 3,
      backoffMs: 1000,
      now: () => now,
    });
    await src.refresh(); // failure 1 → not before 1000
    now = 999;
    await src.refresh();
    assert.equal(src.runs, 1, "backing off");
    now = 1000;
    await src.refresh(); // failure 2 → not before 1000 + 2000
    now = 2999;
    await src.refresh();
    assert.equal(src.runs, 2);
    assert.deepEqual(warnings, []);
    now = 3000;
    await src.refresh(); // failure 3 → off
    assert.equal(src.off, true);
    for (now = 3000; now < 1e6; now += 10_000) await src.refresh();
    assert.equal(src.runs, 3);
    assert.equal((await readLog(dir)).length, 6, "one query-gpu per attempt, nothing after");
    assert.deepEqual(warnings, [
      `"${script}" failed 3 times in a row (unexpected output); NVIDIA GPU metrics are off for this run`,
    ]);
    assert.equal(src.snapshot(), null);
    await src.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SmiSource: a hanging nvidia-smi costs one warning and no stuck child", async () => {
  const warnings: string[] = [];
  let now = 0;
  const src = new SmiSource({
    command: HANG,
    timeoutMs: 200,
    warn: (l) => warnings.push(l),
    maxFailures: 2,
    backoffMs: 10,
    now: () => now,
  });
  await src.refresh();
  now = 100;
  await src.refresh();
  await src.refresh();
  assert.equal(src.runs, 2);
  assert.deepEqual(warnings, [
    `"${HANG}" failed 2 times in a row (timed out after 200 ms); NVIDIA GPU metrics are off for this run`,
  ]);
  await src.close();
});

Deno.test("SmiSource: a missing command is given up at once", async () => {
  const warnings: string[] = [];
  const src = new SmiSource({
    command: "/nonexistent/nvidia-smi",
    timeoutMs: 200,
    warn: (l) => warnings.push(l),
  });
  await src.refresh();
  await src.refresh();
  assert.equal(src.runs, 1);
  assert.deepEqual(warnings, [
    'Cannot run "/nonexistent/nvidia-smi": not found; NVIDIA GPU metrics are off for this run',
  ]);
  await src.close();
});

Deno.test("SmiSource: close() kills a refresh in flight", async () => {
  const src = new SmiSource({ command: HANG, timeoutMs: 60_000, warn: assert.fail });
  src.kick();
  await new Promise((r) => setTimeout(r, 50));
  const t0 = performance.now();
  await src.close();
  assert.ok(performance.now() - t0 < 5000);
});
