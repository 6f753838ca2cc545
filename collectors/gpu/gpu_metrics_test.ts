import assert from "node:assert/strict";
import { decodeGpuMetrics } from "./gpu_metrics.ts";
import { testdata } from "../../tests/fakes/gpu.ts";

function blob(size: number, format: number, content: number, u16s: [number, number][]): Uint8Array {
  const b = new Uint8Array(size).fill(0xff);
  const v = new DataView(b.buffer);
  v.setUint16(0, size, true);
  v.setUint8(2, format);
  v.setUint8(3, content);
  for (const [at, value] of u16s) v.setUint16(at, value, true);
  return b;
}

/** A v1.3 blob as the committed fixture holds it: 42 % at 1850 MHz, 58 °C, 187 W. */
const V1_3 = {
  structureSize: 120,
  formatRevision: 1,
  contentRevision: 3,
  gfxActivityPct: 42,
  gfxclkMhz: 1850,
  temperatureEdgeC: 58,
  socketPowerW: 187,
};

Deno.test("decodeGpuMetrics: header and fields per revision", () => {
  const cases: [string, Uint8Array, object | undefined][] = [
    ["empty", new Uint8Array(0), undefined],
    ["truncated header", new Uint8Array([0x78, 0]), undefined],
    ["zero structure size", new Uint8Array(8), undefined],
    [
      "v1.3 (kgd_pp_interface.h gpu_metrics_v1_3)",
      blob(120, 1, 3, [[4, 58], [16, 42], [22, 187], [40, 1850]]),
      V1_3,
    ],
    [
      "v1.1 same offsets",
      blob(104, 1, 1, [[4, 30], [16, 0], [22, 50], [40, 800]]),
      {
        structureSize: 104,
        formatRevision: 1,
        contentRevision: 1,
        gfxActivityPct: 0,
        gfxclkMhz: 800,
        temperatureEdgeC: 30,
        socketPowerW: 50,
      },
    ],
    [
      "v1.0 (u64 clock counter first, naturally aligned)",
      blob(64, 1, 0, [[16, 44], [28, 99], [34, 220], [40, 2100]]),
      {
        structureSize: 64,
        formatRevision: 1,
        contentRevision: 0,
        gfxActivityPct: 99,
        gfxclkMhz: 2100,
        temperatureEdgeC: 44,
        socketPowerW: 220,
      },
    ],
    [
      "v1.4 (MI300: no edge, no average clock)",
      blob(400, 1, 4, [[10, 550], [12, 73]]),
      {
        structureSize: 400,
        formatRevision: 1,
        contentRevision: 4,
        gfxActivityPct: 73,
        socketPowerW: 550,
      },
    ],
    [
      "0xFFFF means not provided",
      blob(120, 1, 3, [[4, 0xffff], [16, 12]]),
      { structureSize: 120, formatRevision: 1, contentRevision: 3, gfxActivityPct: 12 },
    ],
    [
      "file shorter than the fields",
      blob(120, 1, 3, [[4, 58], [16, 42], [22, 187], [40, 1850]]).subarray(0, 20),
      {
        structureSize: 120,
        formatRevision: 1,
        contentRevision: 3,
        gfxActivityPct: 42,
        temperatureEdgeC: 58,
      },
    ],
    [
      "structure_size smaller than the file",
      blob(120, 1, 3, [[0, 24], [4, 58], [16, 42], [22, 187]]),
      {
        structureSize: 24,
        formatRevision: 1,
        contentRevision: 3,
        gfxActivityPct: 42,
        temperatureEdgeC: 58,
        socketPowerW: 187,
      },
    ],
    [
      "APU v2.1: header only, sysfs fallbacks apply",
      blob(120, 2, 1, [[28, 5]]),
      { structureSize: 120, formatRevision: 2, contentRevision: 1 },
    ],
    ["garbage", new TextEncoder().encode("garbage!"), {
      structureSize: 0x6167,
      formatRevision: 0x72,
      contentRevision: 0x62,
    }],
  ];
  for (const [name, input, want] of cases) assert.deepEqual(decodeGpuMetrics(input), want, name);
});

Deno.test("decodeGpuMetrics: the committed fixture file", () => {
  const bytes = Deno.readFileSync(testdata("amd/sys/class/drm/card0/device/gpu_metrics"));
  assert.deepEqual(decodeGpuMetrics(bytes), V1_3);
});
