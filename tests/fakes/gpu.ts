/**
 * GPU test support: the C fake of libnvidia-ml, fake nvidia-smi wrappers, and the fixture
 * roots under `collectors/gpu/testdata/`.
 */
import assert from "node:assert/strict";
import type { GpuSample, Roots } from "../../base/sample.ts";
import { MIB } from "../../base/units.ts";
import { withTempDir } from "../helpers.ts";

/** Absolute path of `path` under `collectors/gpu/testdata/`. */
export function testdata(path: string): string {
  return new URL(`../../collectors/gpu/testdata/${path}`, import.meta.url).pathname;
}

/**
 * GPU 0 as both fakes describe it (the recorded nvidia-smi line and the C fake of NVML): an
 * A100 at 87 %, 40500 of 81920 MiB, 61 °C, 312.45 W, 1410 MHz; only its names differ.
 */
export function gpu0Sample(uuid: string, name: string): GpuSample {
  return {
    uuid,
    name,
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
  };
}

export function fixtureRoots(name: string): Roots {
  return {
    proc: testdata(`${name}/proc`),
    sys: testdata(`${name}/sys`),
    root: testdata(`${name}/root`),
  };
}

/** A bash script in `dir` that logs "start"/"end" lines to `<dir>/log` around `body`. */
export async function wrapperScript(dir: string, name: string, body: string): Promise<string> {
  const path = `${dir}/${name}`;
  await Deno.writeTextFile(
    path,
    `#!/usr/bin/env bash\necho "start $1" >> "${dir}/log"\n${body}\necho "end $1" >> "${dir}/log"\n`,
  );
  await Deno.chmod(path, 0o755);
  return path;
}

export async function readLog(dir: string): Promise<string[]> {
  try {
    return (await Deno.readTextFile(`${dir}/log`)).split("\n").filter((l) => l !== "");
  } catch {
    return [];
  }
}

function hasCc(): boolean {
  try {
    return new Deno.Command("cc", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** Compiles fake_nvml.c (real C struct layouts) into `dir`; `CC` tells whether a compiler exists. */
export async function buildFakeNvml(dir: string, defines: string[] = []): Promise<string> {
  const out = `${dir}/libnvidia-ml.so.1`;
  const src = testdata("fake_nvml.c");
  const r = await new Deno.Command("cc", {
    args: ["-shared", "-fPIC", ...defines, "-o", out, src],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.ok(r.success, new TextDecoder().decode(r.stderr));
  return out;
}

export const CC = hasCc();

/** A test that needs a C compiler (for the fake NVML), run in a temporary folder it may build in. */
export function ccTest(name: string, fn: (dir: string) => Promise<void>): void {
  Deno.test({ name, ignore: !CC, fn: () => withTempDir("rt-nvml-", fn) });
}
