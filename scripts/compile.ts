/**
 * `deno task compile`: one self-contained binary per Linux target in dist/, named
 * resource-tracker-TARGET (the names install.sh and scripts/pack.sh expect), built with the V8
 * flags of the `run` task. Linux only: every collector reads /proc and /sys, so a macOS binary
 * would start and find nothing to sample.
 *
 *   deno task compile                      # x86_64 and aarch64 Linux
 *   deno task compile --target aarch64-unknown-linux-gnu
 *   deno task compile --host               # this machine's target only
 *
 * `deno compile` downloads Deno's `denort` base runtime for each target; where that is not
 * possible, DENORT_BIN=/path/to/denort (same Deno release, same target) is used by Deno itself.
 */
import { V8_FLAGS_ARG } from "./v8_flags.ts";

export const TARGETS = ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"] as const;

export function hostTarget(): string {
  return `${Deno.build.arch}-unknown-linux-gnu`;
}

/** The `deno compile` argument list for one target (exported for the tests). */
export function compileArgs(target: string, outDir = "dist"): string[] {
  return [
    "compile",
    "--allow-all",
    V8_FLAGS_ARG,
    "--target",
    target,
    "--output",
    `${outDir}/resource-tracker-${target}`,
    "main.ts",
  ];
}

function targetsFrom(args: readonly string[]): string[] {
  if (args.includes("--host")) return [hostTarget()];
  const picked: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--target" && args[i + 1]) picked.push(args[++i]!);
    else if (args[i]!.startsWith("--target=")) picked.push(args[i]!.slice(9));
    else throw new Error(`unknown argument ${JSON.stringify(args[i])}`);
  }
  for (const t of picked) {
    if (!(TARGETS as readonly string[]).includes(t)) {
      throw new Error(`unsupported target ${t} (one of ${TARGETS.join(", ")})`);
    }
  }
  return picked.length > 0 ? picked : [...TARGETS];
}

if (import.meta.main) {
  let targets: string[];
  try {
    targets = targetsFrom(Deno.args);
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    Deno.exit(2);
  }
  const root = new URL("..", import.meta.url).pathname;
  let failed = 0;
  for (const target of targets) {
    const args = compileArgs(target);
    console.error(`deno ${args.join(" ")}`);
    const st = await new Deno.Command(Deno.execPath(), { args, cwd: root }).spawn().status;
    if (!st.success) {
      failed++;
      console.error(`error: ${target}: deno compile failed (exit ${st.code})`);
    }
  }
  Deno.exit(failed > 0 ? 1 : 0);
}
