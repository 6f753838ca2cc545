import assert from "node:assert/strict";
import { MIB } from "../../base/units.ts";
import { parseComputeApps, parsePmon, parseQueryGpu, smiSnapshot } from "./nvidia_smi_parse.ts";
import { nvidiaProcessGpu } from "./process_gpu.ts";
import { gpu0Sample } from "../../tests/fakes/gpu.ts";

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
  assert.deepEqual(
    g,
    gpu0Sample("GPU-8f6e3a1c-2b4d-4e5f-9a7b-1c2d3e4f5a6b", "NVIDIA A100-SXM4-80GB"),
  );
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
