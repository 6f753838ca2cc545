import assert from "node:assert/strict";
import { AmdProcessUsage, parseFdinfo, parseSize, readPidClients } from "./amd_fdinfo.ts";
import { fixtureRoots } from "../../tests/fakes/gpu.ts";

const AMD = fixtureRoots("amd");
const KNOWN = new Set(["0000:03:00.0", "0000:0c:00.0"]);

Deno.test("parseSize", () => {
  const cases: [string, number | undefined][] = [
    ["", undefined],
    ["1024 KiB", 1048576],
    ["3 MiB", 3145728],
    ["1 GiB", 1073741824],
    ["512", 512],
    ["12 kB", undefined],
    ["-5 KiB", undefined],
  ];
  for (const [input, want] of cases) assert.equal(parseSize(input), want, input);
});

Deno.test("parseFdinfo: table of inputs", () => {
  const cases: [string, string, object | undefined][] = [
    ["empty", "", undefined],
    ["not DRM", "pos:\t0\nflags:\t02\nmnt_id:\t25\n", undefined],
    ["garbage", "\u0000\u0001 not : a : file", undefined],
    [
      "amdgpu",
      "drm-driver:\tamdgpu\ndrm-client-id:\t17\ndrm-pdev:\t0000:03:00.0\n" +
      "drm-memory-vram:\t1048576 KiB\ndrm-engine-gfx:\t1000000000 ns\ndrm-engine-compute:\t5 ns\n",
      {
        driver: "amdgpu",
        pdev: "0000:03:00.0",
        clientId: "17",
        gfxNs: 1000000000,
        vramBytes: 1073741824,
      },
    ],
    [
      "newer keys only, upper-case pdev",
      "drm-driver:\tamdgpu\ndrm-pdev:\t0000:0C:00.0\ndrm-total-vram:\t2 MiB\ndrm-resident-vram:\t1 MiB\n",
      { driver: "amdgpu", pdev: "0000:0c:00.0", vramBytes: 1048576 },
    ],
    [
      "truncated",
      "drm-driver:\tamdgpu\ndrm-engine-gfx:\t12",
      { driver: "amdgpu" },
    ],
  ];
  for (const [name, input, want] of cases) assert.deepEqual(parseFdinfo(input), want, name);
});

Deno.test("readPidClients: dup'ed fds are one client, other drivers and non-DRM fds skipped", () => {
  assert.deepEqual([...readPidClients(AMD.proc, 1000).keys()], ["0000:03:00.0#17"]);
  assert.deepEqual([...readPidClients(AMD.proc, 2000).keys()], ["0000:0c:00.0#23"]);
  assert.equal(readPidClients(AMD.proc, 99999).size, 0);
});

Deno.test("AmdProcessUsage: two processes sharing a client count once", () => {
  const u = new AmdProcessUsage();
  const r = u.measure(AMD.proc, [1000, 1001], KNOWN, 1);
  assert.deepEqual(r, { gfxPct: 0, vramBytes: 1073741824, pdevs: new Set(["0000:03:00.0"]) });
  const unknown = u.measure(AMD.proc, [1000], new Set(["0000:99:00.0"]), 1);
  assert.deepEqual(unknown, { gfxPct: 0, vramBytes: 0, pdevs: new Set() });
});

function fdinfo(client: number, pdev: string, gfxNs: number): string {
  return `drm-driver:\tamdgpu\ndrm-client-id:\t${client}\ndrm-pdev:\t${pdev}\n` +
    `drm-memory-vram:\t1024 KiB\ndrm-engine-gfx:\t${gfxNs} ns\n`;
}

Deno.test("AmdProcessUsage: GFX deltas over the elapsed time, peeks do not advance", () => {
  const proc = Deno.makeTempDirSync();
  try {
    const write = (pid: number, fd: number, text: string) => {
      Deno.mkdirSync(`${proc}/${pid}/fdinfo`, { recursive: true });
      Deno.writeTextFileSync(`${proc}/${pid}/fdinfo/${fd}`, text);
    };
    const u = new AmdProcessUsage();
    write(10, 3, fdinfo(1, "0000:03:00.0", 1_000_000_000));
    write(11, 4, fdinfo(1, "0000:03:00.0", 1_000_000_000)); // same client, forked
    write(12, 5, fdinfo(2, "0000:0c:00.0", 0));
    assert.equal(u.measure(proc, [10, 11, 12], KNOWN, 1).gfxPct, 0, "first call: no delta");

    write(10, 3, fdinfo(1, "0000:03:00.0", 1_500_000_000));
    write(11, 4, fdinfo(1, "0000:03:00.0", 1_500_000_000));
    write(12, 5, fdinfo(2, "0000:0c:00.0", 200_000_000));
    assert.equal(u.measure(proc, [10, 11, 12], KNOWN, 0).gfxPct, 0, "peek");
    const r = u.measure(proc, [10, 11, 12], KNOWN, 2);
    assert.ok(Math.abs(r.gfxPct - 35) < 1e-9, `25% + 10%, got ${r.gfxPct}`);
    assert.equal(r.pdevs.size, 2);

    write(10, 3, fdinfo(1, "0000:03:00.0", 100)); // counter went backwards (new client)
    write(11, 4, "pos:\t0\n");
    const back = u.measure(proc, [10, 11, 12], KNOWN, 1);
    assert.equal(back.gfxPct, 0);
  } finally {
    Deno.removeSync(proc, { recursive: true });
  }
});
