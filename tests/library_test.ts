/**
 * mod.ts, the in-process API: a block that burns 0.5 s of CPU and holds 100 MiB reads both
 * within 10 %; summary mode keeps no samples; nested calls and children are counted. The
 * measuring runs in a Deno process of its own (tests/library/block.ts): the test runner's
 * process also runs other tests.
 */
import { equal, ok } from "node:assert/strict";
import { cleanEnv } from "./helpers.ts";

const SCRIPT = new URL("./library/block.ts", import.meta.url).pathname;

async function runScript(which: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", SCRIPT, which],
    env: cleanEnv(),
    clearEnv: true,
    stdin: "null",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  ok(out.success, stderr);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test("library: a block burning 0.5 s of CPU and holding 100 MiB reads both within 10 %", async () => {
  const r = await runScript("block");
  const cpu = r.summary.cpu.total_secs;
  // Truth: the kernel's count (getrusage) for the block — the 0.5 s burn plus what touching
  // 100 MiB cost — and for the whole measured window (the block, the sampler's own cost).
  ok(r.block_cpu_secs >= 0.5, `the block burned ${r.block_cpu_secs} s`);
  ok(
    Math.abs(cpu - r.block_cpu_secs) <= 0.1 * r.block_cpu_secs,
    `CPU ${cpu} s, the block used ${r.block_cpu_secs} s (± 10 %)`,
  );
  ok(Math.abs(cpu - r.kernel_cpu_secs) <= 0.05, `CPU ${cpu} s, kernel ${r.kernel_cpu_secs} s`);
  const rss = r.summary.memory.peak_rss_mib - r.baseline.rss_mib;
  const pss = r.summary.memory.peak_pss_mib - r.baseline.pss_mib;
  ok(Math.abs(rss - 100) <= 10, `RSS held ${rss} MiB, want 100 ± 10 %`);
  ok(Math.abs(pss - 100) <= 10, `PSS held ${pss} MiB, want 100 ± 10 %`);
  ok(r.samples >= 2, `samples: ${r.samples}`);
  equal(r.summary.command, null);
  equal(r.warnings.length, 0, r.warnings.join("\n"));
});

Deno.test("library: without --allow-all PSS cannot be read, and the result says so", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { measure } from "${new URL("../mod.ts", import.meta.url).href}";
      const r = await measure(() => 1);
      console.log(JSON.stringify(r.warnings));`,
    ],
    env: cleanEnv(),
    clearEnv: true,
  }).output();
  // deno eval has every permission: run a file with --allow-read --allow-ffi instead.
  ok(out.success);
  const file = Deno.makeTempFileSync({ suffix: ".ts" });
  try {
    Deno.writeTextFileSync(
      file,
      `import { measure } from "${new URL("../mod.ts", import.meta.url).href}";\n` +
        "console.log(JSON.stringify((await measure(() => 1)).warnings));\n",
    );
    const limited = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-ffi", file],
      env: cleanEnv(),
      clearEnv: true,
    }).output();
    ok(limited.success, new TextDecoder().decode(limited.stderr));
    const warnings = JSON.parse(new TextDecoder().decode(limited.stdout)) as string[];
    ok(warnings.some((w) => w.includes("--allow-all")), JSON.stringify(warnings));
    equal(JSON.parse(new TextDecoder().decode(out.stdout)).length, 0);
  } finally {
    Deno.removeSync(file);
  }
});

Deno.test("library: summary mode keeps no sample; nested calls and child processes", async () => {
  const r = await runScript("modes");
  equal(r.summaryMode.kept, 0);
  ok(r.summaryMode.seen >= 2 && r.summaryMode.seen === r.summaryMode.counted, r.summaryMode);
  ok(r.childOk);
  // The inner call is inside the outer window; the outer one also has the child's CPU.
  ok(r.inner.cpu.total_secs >= 0.18, `inner ${r.inner.cpu.total_secs}`);
  ok(
    r.outer.cpu.total_secs >= r.inner.cpu.total_secs + 0.05,
    `outer ${r.outer.cpu.total_secs}, inner ${r.inner.cpu.total_secs}: the child is missing`,
  );
  ok(r.whole.cpu.total_secs >= r.outer.cpu.total_secs - 0.02);
  ok(r.whole.duration_secs >= r.outer.duration_secs);
});
