import { sleep } from "../../base/time.ts";
import assert from "node:assert/strict";
import { growingCall, nvmlOpenSession, nvmlQuery, NvmlSource } from "./nvml.ts";
import type { NvmlSymbols } from "./nvml_ffi.ts";
import { openNvml } from "./nvml_ffi.ts";
import { NVML_ERROR_INSUFFICIENT_SIZE, PROCESS_INFO_SIZE } from "./nvml_decode.ts";
import { buildFakeNvml, ccTest, gpu0Sample } from "../../tests/fakes/gpu.ts";

import { MIB } from "../../base/units.ts";

function setU32(b: Uint8Array, value: number, at = 0): void {
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(at, value, true);
}

function setStr(b: Uint8Array, s: string, at = 0): void {
  b.set(new TextEncoder().encode(s + "\0"), at);
}

/** A JS NVML with one device; `procs` grows by one PID each time a caller is told to grow. */
function fakeNvml(opts: { init?: number; hangMemory?: boolean; throwQuery?: boolean } = {}) {
  let procs = 2;
  const calls = { shutdown: 0, compute: 0 };
  const ok = Promise.resolve(0);
  const sym: NvmlSymbols = {
    nvmlInit_v2: () => Promise.resolve(opts.init ?? 0),
    nvmlShutdown: () => (calls.shutdown++, ok),
    nvmlSystemGetDriverVersion: (b) => (setStr(b, "535.104.05"), ok),
    nvmlDeviceGetCount_v2: (c) => (setU32(c, 1), ok),
    nvmlDeviceGetHandleByIndex_v2: (_i, h) => {
      new DataView(h.buffer).setBigUint64(0, 0x5555_0000n, true);
      return ok;
    },
    nvmlDeviceGetName: (
      d,
      b,
    ) => (assert.equal(d, 0x5555_0000n), setStr(b, "NVIDIA H100 80GB HBM3"), ok),
    nvmlDeviceGetUUID: (_d, b) => (setStr(b, "GPU-abc"), ok),
    nvmlDeviceGetPciInfo_v3: () => Promise.resolve(3), // not supported: no pci_bus_id
    nvmlDeviceGetUtilizationRates: (_d, u) => (setU32(u, 55), ok),
    nvmlDeviceGetMemoryInfo: (_d, m) => {
      if (opts.throwQuery) throw new Error("symbol vanished");
      if (opts.hangMemory) return new Promise<number>(() => {});
      const v = new DataView(m.buffer);
      v.setBigUint64(0, 80n * 1024n * BigInt(MIB), true);
      v.setBigUint64(16, 1024n * BigInt(MIB), true);
      return ok;
    },
    nvmlDeviceGetTemperature: (_d, _s, t) => (setU32(t, 40), ok),
    nvmlDeviceGetPowerUsage: () => Promise.resolve(15), // GPU lost: 0 W
    nvmlDeviceGetClockInfo: (_d, _t, c) => (setU32(c, 1980), ok),
    nvmlDeviceGetComputeRunningProcesses_v3: (_d, count, infos) => {
      calls.compute++;
      const cap = new DataView(count.buffer).getUint32(0, true);
      if (infos === null || cap < procs) {
        setU32(count, procs);
        procs++; // a process starts between the two calls
        return Promise.resolve(NVML_ERROR_INSUFFICIENT_SIZE);
      }
      const v = new DataView(infos.buffer);
      for (let i = 0; i < procs; i++) {
        v.setUint32(i * PROCESS_INFO_SIZE, 100 + i, true);
        v.setBigUint64(i * PROCESS_INFO_SIZE + 8, BigInt(MIB), true);
      }
      setU32(count, procs);
      return ok;
    },
    nvmlDeviceGetGraphicsRunningProcesses_v3: (_d, count) => (setU32(count, 0), ok),
    nvmlDeviceGetComputeRunningProcesses: null,
    nvmlDeviceGetGraphicsRunningProcesses: null,
    nvmlDeviceGetProcessUtilization: () => Promise.resolve(6), // NOT_FOUND: no samples yet
    nvmlDeviceGetTotalEnergyConsumption: null, // a driver before 390: power × time instead
  };
  return { sym, calls };
}

Deno.test("growingCall grows on INSUFFICIENT_SIZE, gives up after a few rounds or an error", async () => {
  let needed = 3;
  const got = await growingCall((count, b) => {
    const cap = new DataView(count.buffer).getUint32(0, true);
    if (b === null || cap < needed) {
      setU32(count, needed);
      needed *= 10; // outgrows every buffer we offer
      return Promise.resolve(7);
    }
    setU32(count, needed);
    return Promise.resolve(0);
  }, 24);
  assert.equal(got, undefined, "never fits: bounded retries");

  const empty = await growingCall((count) => (setU32(count, 0), Promise.resolve(0)), 24);
  assert.deepEqual(empty, { buf: new Uint8Array(0), count: 0 });
  assert.equal(await growingCall(() => Promise.resolve(2), 24), undefined);
});

Deno.test("nvmlQuery: errors give zeros, racing process list is re-read with a bigger buffer", async () => {
  const { sym, calls } = fakeNvml();
  const session = await nvmlOpenSession(sym);
  assert.deepEqual(session.driverVersion, "535.104.05");
  assert.equal(session.devices.length, 1);
  assert.equal(session.devices[0]?.energyCounter, false, "no symbol: no energy counter");
  const { snapshot, errors } = await nvmlQuery(sym, session);
  assert.deepEqual(errors, []);
  const d = snapshot.devices[0];
  assert.ok(d !== undefined);
  assert.equal(d.sample.name, "NVIDIA H100 80GB HBM3");
  assert.deepEqual(d.sample.detail, { driver_version: "535.104.05" });
  assert.equal(d.sample.utilization_pct, 55);
  assert.equal(d.sample.vram_used_pct, 1.25);
  assert.equal(d.sample.power_watts, 0);
  assert.equal(d.sample.frequency_mhz, 1980);
  assert.ok(calls.compute >= 2);
  assert.ok(d.processes.length >= 3, "saw the process that started between calls");
  assert.equal(d.sm.size, 0);
  assert.equal(d.energy, undefined);
});

Deno.test("NvmlSource: init failure is silent and tells the caller to fall back", async () => {
  const warnings: string[] = [];
  const src = new NvmlSource(fakeNvml({ init: 9 }).sym, {
    warn: (l) => warnings.push(l),
    hangMs: 1000,
  });
  await src.refresh();
  assert.equal(src.initFailed, true);
  assert.equal(src.present, false);
  assert.equal(src.snapshot(), null);
  assert.deepEqual(warnings, []);
  await src.close();
});

Deno.test("NvmlSource: a hung call is detected on a later kick, warned once, never awaited", async () => {
  let now = 0;
  const warnings: string[] = [];
  const { sym, calls } = fakeNvml({ hangMemory: true });
  const src = new NvmlSource(sym, { warn: (l) => warnings.push(l), hangMs: 500, now: () => now });
  src.kick();
  await sleep(10); // init completes, the query hangs
  assert.equal(src.present, true);
  now = 400;
  src.kick();
  assert.deepEqual(warnings, []);
  now = 600;
  src.kick();
  src.kick();
  now = 10_000;
  src.kick();
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? "", /^NVML did not answer within 500 ms/);
  assert.equal(src.snapshot(), null);
  assert.equal(src.present, true, "stack stays present: process values become zeros");
  await src.close(); // returns at once, no nvmlShutdown on a hung library
  assert.equal(calls.shutdown, 0);
});

Deno.test("NvmlSource: repeated failures turn NVML off with one warning", async () => {
  const warnings: string[] = [];
  const src = new NvmlSource(fakeNvml({ throwQuery: true }).sym, {
    warn: (l) => warnings.push(l),
    hangMs: 1000,
    maxFailures: 3,
  });
  for (let i = 0; i < 6; i++) await src.refresh();
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? "", /^NVML failed 3 times in a row \(symbol vanished\)/);
  await src.close();
});

ccTest("FFI against a C fake of libnvidia-ml: signatures and struct layouts agree", async (dir) => {
  const lib = openNvml(await buildFakeNvml(dir));
  assert.ok(lib !== undefined);
  // Deno hands a missing optional nonblocking symbol a throwing function; openNvml: null.
  assert.equal(lib.symbols.nvmlDeviceGetComputeRunningProcesses, null);
  assert.equal(lib.symbols.nvmlDeviceGetGraphicsRunningProcesses, null);
  assert.equal(typeof lib.symbols.nvmlDeviceGetComputeRunningProcesses_v3, "function");
  assert.equal(typeof lib.symbols.nvmlDeviceGetTotalEnergyConsumption, "function");
  const src = new NvmlSource(lib.symbols, {
    warn: (l) => assert.fail(l),
    hangMs: 5000,
    onClose: () => lib.close(),
  });
  await src.refresh();
  const snap = src.snapshot();
  assert.ok(snap !== null);
  const [d0, d1] = snap.devices;
  assert.ok(d0 !== undefined && d1 !== undefined);
  assert.deepEqual(
    d0.sample,
    gpu0Sample("GPU-00000000-0000-0000-0000-000000000000", "NVIDIA Fake GPU 0"),
  );
  assert.equal(d1.sample.temperature_celsius, 0, "NOT_SUPPORTED gives 0");
  assert.equal(d1.sample.detail.pci_bus_id, "00000000:0F:00.0");
  assert.deepEqual(d0.processes, [
    { pid: 4242, usedBytes: 40000 * MIB },
    { pid: 4243, usedBytes: null },
    { pid: 4244, usedBytes: 480 * MIB },
  ]);
  assert.deepEqual([...d0.sm], [[4242, 80], [4243, 5]]);
  assert.deepEqual(d1.processes, [{ pid: 5000, usedBytes: 512 * MIB }]);
  assert.equal(d1.sm.size, 0);
  await src.close();
});
