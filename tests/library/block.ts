/**
 * Run by tests/library_test.ts in a process of its own (so no other test's work is in it):
 * measures a block with mod.ts and prints what the library read next to the kernel's own
 * accounting (getrusage) as one JSON object.
 */
import process from "node:process";
import { measure, startTracking } from "../../mod.ts";

const MIB = 1 << 20;
const cpuSecs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const tick = () => new Promise((r) => setTimeout(r, 0));

let blockCpu = 0;

/**
 * Holds `mib` MiB (every page touched) and then burns `secs` of CPU more (on a small VM the page
 * faults alone cost ~0.3–0.6 s); records the CPU the whole block used in `blockCpu`.
 */
async function block(mib: number, secs: number): Promise<number> {
  const start = cpuSecs();
  const held = new Uint8Array(mib * MIB);
  for (let i = 0; i < mib; i++) {
    held.fill(1, i * MIB, (i + 1) * MIB);
    if (i % 16 === 15) await tick();
  }
  const burnFrom = cpuSecs();
  let x = 0;
  while (cpuSecs() - burnFrom < secs) {
    const until = performance.now() + 20;
    while (performance.now() < until) x = (x * 31 + 7) % 1000003;
    await tick(); // let the sampler take its samples while the memory is held
  }
  blockCpu = cpuSecs() - start;
  return held[held.length - 1]! + held[0]! + (x & 0);
}

const which = Deno.args[0];
if (which === "block") {
  // Without the block first: what this process grows by when a sampler first runs in it
  // (V8 compiling the sampling code, its heap) is not the block's.
  const empty = await measure(() => block(0, 0.3), { interval: 0.1 });
  const before = cpuSecs();
  const r = await measure(() => block(100, 0.5), { interval: 0.1 });
  const kernel = cpuSecs() - before;
  console.log(JSON.stringify({
    value: r.value,
    kernel_cpu_secs: kernel,
    block_cpu_secs: blockCpu,
    summary: r.summary,
    baseline: r.baseline,
    empty: { summary: empty.summary, baseline: empty.baseline },
    samples: r.samples.length,
    warnings: r.warnings,
  }));
} else if (which === "modes") {
  // Summary mode: no samples kept, every sample seen; nested boundary calls; a child process.
  let seen = 0;
  const t = startTracking({ interval: 0.1, mode: "summary", onSample: () => seen++ });
  const outer = await measure(async () => {
    const inner = await measure(() => block(10, 0.2));
    const child = await new Deno.Command("sh", {
      args: ["-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"],
    }).output();
    return { inner: inner.summary, childOk: child.success };
  });
  const whole = await t.stop();
  console.log(JSON.stringify({
    summaryMode: { kept: whole.samples.length, seen, counted: whole.summary.samples },
    outer: outer.summary,
    inner: outer.value.inner,
    childOk: outer.value.childOk,
    whole: whole.summary,
  }));
}
