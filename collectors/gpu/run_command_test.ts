import { sleep } from "../../base/time.ts";
import assert from "node:assert/strict";
import { parseQueryGpu } from "./nvidia_smi_parse.ts";
import { runCommand } from "./run_command.ts";
import { readLog, testdata, wrapperScript } from "../../tests/fakes/gpu.ts";

const FAKE = testdata("nvidia-smi-fake");
const HANG = testdata("nvidia-smi-hang");

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
      await sleep(20);
    }
    assert.deepEqual(liveInGroup(pgid), []);
    assert.deepEqual(await readLog(dir), ["start --query-gpu=x"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
