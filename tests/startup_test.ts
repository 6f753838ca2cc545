/**
 * What loads before the wrapped command starts. Every module costs start-up time, and the first
 * node: or npm: module costs 10–20 ms more (Deno starts its Node layer), so the static import
 * graph of main.ts stays free of them and of the sampler (loaded while the command starts).
 */
import { ok } from "node:assert/strict";

interface Info {
  roots: string[];
  modules: {
    specifier: string;
    dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[];
  }[];
}

async function staticGraph(): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "main.ts"],
    cwd: new URL("..", import.meta.url).pathname,
    env: { NO_COLOR: "1" },
  }).output();
  ok(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as Info;
  const bySpecifier = new Map(info.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const stack = [...info.roots];
  while (stack.length > 0) {
    const s = stack.pop()!;
    if (seen.has(s)) continue;
    seen.add(s);
    for (const d of bySpecifier.get(s)?.dependencies ?? []) {
      if (d.code && !d.isDynamic) stack.push(d.code.specifier);
    }
  }
  const root = new URL("..", import.meta.url).href;
  return [...seen].map((s) => s.replace(root, ""));
}

Deno.test("start-up imports no node:/npm: module and not the sampler", async () => {
  const graph = await staticGraph();
  ok(graph.includes("main.ts") && graph.includes("core/supervisor.ts"), graph.join(" "));
  const heavy = graph.filter((s) =>
    s.startsWith("node:") || s.startsWith("npm:") || s.startsWith("jsr:") ||
    ["core/sampler.ts", "core/process_tracker.ts", "report/summary.ts", "collectors/cpu.ts"]
      .includes(s)
  );
  ok(heavy.length === 0, `loaded before the spawn: ${heavy.join(", ")}`);
  // A guard against creep, not a budget: 38 with deno.json after issue 19 split the layers (the
  // option slices each folder owns, base/ helpers) and moved what the spawn does not need behind
  // `await import()` (core/tracking.ts, the flush guard, the adopter, help). Each small module
  // costs well under 1 ms; scripts/startup_ab.ts measured the whole within 2 % of before.
  ok(graph.length <= 38, `${graph.length} modules before the spawn: ${graph.join(" ")}`);
});

Deno.test("the binary, the launcher, the tests and the benchmark share one set of V8 flags", async () => {
  const { V8_FLAGS_ARG } = await import("../scripts/v8_flags.ts");
  const deno = JSON.parse(Deno.readTextFileSync(new URL("../deno.json", import.meta.url)));
  // Each flag is there for a measured reason (README "Performance"): dropping one silently
  // brings back V8's background-thread CPU (--single-threaded), ~5 MiB of pooled young pages
  // (the semi-space cap) or the soak's 10 MiB memory step (--no-incremental-marking).
  for (const flag of ["--single-threaded", "--max-semi-space-size=1", "--no-incremental-marking"]) {
    ok(V8_FLAGS_ARG.replace("--v8-flags=", "").split(",").includes(flag), V8_FLAGS_ARG);
  }
  ok((deno.tasks.run as string).includes(` ${V8_FLAGS_ARG} `), `task run: ${deno.tasks.run}`);
  ok((deno.tasks.compile as string).includes("scripts/compile.ts"), deno.tasks.compile);
  const { compileArgs } = await import("../scripts/compile.ts");
  ok(compileArgs("aarch64-unknown-linux-gnu").includes(V8_FLAGS_ARG));
});
