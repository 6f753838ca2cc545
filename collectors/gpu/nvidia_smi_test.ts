import { sleep } from "../../base/time.ts";
import assert from "node:assert/strict";
import { SmiSource } from "./nvidia_smi.ts";
import { nvidiaProcessGpu } from "./process_gpu.ts";
import { readLog, testdata, wrapperScript } from "../../tests/fakes/gpu.ts";

const FAKE = testdata("nvidia-smi-fake");
const HANG = testdata("nvidia-smi-hang");
const GARBAGE = testdata("nvidia-smi-garbage");

/** A source on a hand-set clock (`clock.now`) that keeps its warnings. */
function clockedSource(command: string, timeoutMs: number, maxFailures: number, backoffMs: number) {
  const warnings: string[] = [];
  const clock = { now: 0 };
  const src = new SmiSource({
    command,
    timeoutMs,
    warn: (l) => warnings.push(l),
    maxFailures,
    backoffMs,
    now: () => clock.now,
  });
  return { src, warnings, clock };
}

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
    const { src, warnings, clock } = clockedSource(script, 10_000, 3, 1000);
    await src.refresh(); // failure 1 → not before 1000
    clock.now = 999;
    await src.refresh();
    assert.equal(src.runs, 1, "backing off");
    clock.now = 1000;
    await src.refresh(); // failure 2 → not before 1000 + 2000
    clock.now = 2999;
    await src.refresh();
    assert.equal(src.runs, 2);
    assert.deepEqual(warnings, []);
    clock.now = 3000;
    await src.refresh(); // failure 3 → off
    assert.equal(src.off, true);
    for (clock.now = 3000; clock.now < 1e6; clock.now += 10_000) await src.refresh();
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
  const { src, warnings, clock } = clockedSource(HANG, 200, 2, 10);
  await src.refresh();
  clock.now = 100;
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
    'cannot run "/nonexistent/nvidia-smi": not found; NVIDIA GPU metrics are off for this run',
  ]);
  await src.close();
});

Deno.test("SmiSource: close() kills a refresh in flight", async () => {
  const src = new SmiSource({ command: HANG, timeoutMs: 60_000, warn: assert.fail });
  src.kick();
  await sleep(50);
  const t0 = performance.now();
  await src.close();
  assert.ok(performance.now() - t0 < 5000);
});
