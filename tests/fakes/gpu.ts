/**
 * GPU test support: the C fake of libnvidia-ml, fake nvidia-smi wrappers, and the fixture
 * roots under `collectors/gpu/testdata/`.
 */
import assert from "node:assert/strict";
import type { Roots } from "../../base/sample.ts";

/** Absolute path of `path` under `collectors/gpu/testdata/`. */
export function testdata(path: string): string {
  return new URL(`../../collectors/gpu/testdata/${path}`, import.meta.url).pathname;
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
