import assert from "node:assert/strict";
import {
  decodeCString,
  decodeHandle,
  decodeMemory,
  decodePciBusId,
  decodeProcessInfos,
  decodeU32,
  decodeU64,
  decodeUtilization,
  decodeUtilSamples,
  latestSmByPid,
  NVML_VALUE_NOT_AVAILABLE,
  PCI_INFO_SIZE,
  PROCESS_INFO_SIZE,
  UTIL_SAMPLE_SIZE,
} from "./nvml_decode.ts";

function buf(size: number, fill: (v: DataView, b: Uint8Array) => void): Uint8Array {
  const b = new Uint8Array(size);
  fill(new DataView(b.buffer), b);
  return b;
}

Deno.test("decodeCString stops at NUL, tolerates none and garbage", () => {
  const cases: [Uint8Array, string][] = [
    [new Uint8Array(0), ""],
    [new TextEncoder().encode("NVIDIA H100\0junk"), "NVIDIA H100"],
    [new TextEncoder().encode("no terminator"), "no terminator"],
    [new Uint8Array([0xff, 0xfe, 0]), "\ufffd\ufffd"],
    [new Uint8Array(96), ""],
  ];
  for (const [input, want] of cases) assert.equal(decodeCString(input), want);
});

Deno.test("scalar out-parameters: handle and u32, truncated is undefined", () => {
  assert.equal(
    decodeHandle(buf(8, (v) => v.setBigUint64(0, 0x7f00_dead_beefn, true))),
    0x7f00_dead_beefn,
  );
  assert.equal(decodeHandle(new Uint8Array(4)), undefined);
  assert.equal(decodeU32(buf(4, (v) => v.setUint32(0, 312450, true))), 312450);
  assert.equal(decodeU32(new Uint8Array(3)), undefined);
});

Deno.test("nvmlMemory_t and nvmlUtilization_t", () => {
  const mem = buf(24, (v) => {
    v.setBigUint64(0, 85899345920n, true);
    v.setBigUint64(8, 43432017920n, true);
    v.setBigUint64(16, 42467328000n, true);
  });
  assert.deepEqual(decodeMemory(mem), { total: 85899345920, free: 43432017920, used: 42467328000 });
  assert.equal(decodeMemory(new Uint8Array(16)), undefined);
  const util = buf(8, (v) => {
    v.setUint32(0, 87, true);
    v.setUint32(4, 40, true);
  });
  assert.deepEqual(decodeUtilization(util), { gpu: 87, memory: 40 });
  assert.equal(decodeUtilization(new Uint8Array(0)), undefined);
});

Deno.test("nvmlPciInfo_t: busId at offset 36, legacy id ignored", () => {
  const pci = buf(PCI_INFO_SIZE, (v, b) => {
    b.set(new TextEncoder().encode("0000:07:00.0"), 0);
    v.setUint32(16, 0, true);
    v.setUint32(20, 7, true);
    b.set(new TextEncoder().encode("00000000:07:00.0"), 36);
  });
  assert.equal(decodePciBusId(pci), "00000000:07:00.0");
  assert.equal(decodePciBusId(new Uint8Array(PCI_INFO_SIZE)), undefined);
  assert.equal(decodePciBusId(pci.subarray(0, 40)), undefined);
});

function procInfos(entries: [number, bigint][], stride = PROCESS_INFO_SIZE): Uint8Array {
  return buf(entries.length * stride, (v) => {
    entries.forEach(([pid, used], i) => {
      v.setUint32(i * stride, pid, true);
      v.setUint32(i * stride + 4, 0xdeadbeef, true); // padding must be ignored
      v.setBigUint64(i * stride + 8, used, true);
      if (stride === 24) {
        v.setUint32(i * stride + 16, 0xffffffff, true);
        v.setUint32(i * stride + 20, 0xffffffff, true);
      }
    });
  });
}

Deno.test("nvmlProcessInfo_v2_t array: not-available memory is null, count clamped", () => {
  const b = procInfos([[4242, 41943040000n], [4243, NVML_VALUE_NOT_AVAILABLE], [7, 0n]]);
  assert.deepEqual(decodeProcessInfos(b, 3), [
    { pid: 4242, usedBytes: 41943040000 },
    { pid: 4243, usedBytes: null },
    { pid: 7, usedBytes: 0 },
  ]);
  assert.equal(decodeProcessInfos(b, 2).length, 2);
  assert.equal(decodeProcessInfos(b, 99).length, 3, "count larger than the buffer");
  assert.deepEqual(decodeProcessInfos(new Uint8Array(0), 5), []);
  assert.deepEqual(decodeProcessInfos(b.subarray(0, 30), 3).length, 1, "truncated");
});

Deno.test("nvmlProcessInfo_v1_t array (stride 16)", () => {
  const b = procInfos([[10, 1048576n], [11, 2097152n]], 16);
  assert.deepEqual(decodeProcessInfos(b, 2, 16), [
    { pid: 10, usedBytes: 1048576 },
    { pid: 11, usedBytes: 2097152 },
  ]);
});

Deno.test("nvmlProcessUtilizationSample_t array and latest sample per PID", () => {
  const rows: [number, bigint, number][] = [
    [4242, 1_700_000_000_000_100n, 50],
    [4243, 1_700_000_000_000_150n, 5],
    [4242, 1_700_000_000_000_200n, 80],
    [4242, 1_700_000_000_000_050n, 99],
  ];
  const b = buf(rows.length * UTIL_SAMPLE_SIZE, (v) => {
    rows.forEach(([pid, ts, sm], i) => {
      const at = i * UTIL_SAMPLE_SIZE;
      v.setUint32(at, pid, true);
      v.setBigUint64(at + 8, ts, true);
      v.setUint32(at + 16, sm, true);
      v.setUint32(at + 20, 3, true); // memUtil, not used
    });
  });
  const samples = decodeUtilSamples(b, 4);
  assert.deepEqual(samples[0], { pid: 4242, timeStamp: 1_700_000_000_000_100n, smUtil: 50 });
  assert.deepEqual([...latestSmByPid(samples)], [[4242, 80], [4243, 5]]);
  assert.deepEqual(decodeUtilSamples(b.subarray(0, 31), 1), [], "truncated");
  assert.deepEqual(latestSmByPid([]).size, 0);
});

Deno.test("decodeU64: the energy counter above 2^32 mJ, truncated is undefined", () => {
  assert.equal(decodeU64(buf(8, (v) => v.setBigUint64(0, 5_000_000_001_500n, true))), 5e12 + 1500);
  assert.equal(decodeU64(new Uint8Array(4)), undefined);
});
