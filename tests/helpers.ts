/** Spawns the real entry point the way a user would, with a clean, predictable environment. */
import { V8_FLAGS_ARG } from "../scripts/v8_flags.ts";
export const MAIN = new URL("../main.ts", import.meta.url).pathname;
export const FIXTURES = new URL("./fixtures", import.meta.url).pathname;

export interface CliResult {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
}

/** The parent environment without anything that would change what the user sees. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    if (/^(TRACKER_|SENTINEL_|AWS_|RUST_BACKTRACE$|DENO_)/.test(k)) continue;
    env[k] = v;
  }
  // No test sends packets beyond loopback: cloud discovery stays off unless a test overrides it.
  return { ...env, NO_COLOR: "1", TRACKER_NO_CLOUD: "1", ...extra };
}

export interface RunOptions {
  env?: Record<string, string>;
  cwd?: string;
  stdin?: "null" | "piped";
}

export function command(args: string[], o: RunOptions = {}): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", V8_FLAGS_ARG, "--quiet", MAIN, ...args],
    env: cleanEnv(o.env),
    clearEnv: true,
    ...(o.cwd ? { cwd: o.cwd } : {}),
    stdin: o.stdin ?? "null",
    stdout: "piped",
    stderr: "piped",
  });
}

export async function runCli(args: string[], o: RunOptions = {}): Promise<CliResult> {
  const out = await command(args, o).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    signal: out.signal,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

/** Starts the CLI; resolves its output once it exits. */
export function spawnCli(args: string[], o: RunOptions = {}) {
  const child = command(args, o).spawn();
  const output = child.output().then((out) => {
    const dec = new TextDecoder();
    return {
      code: out.code,
      signal: out.signal,
      stdout: dec.decode(out.stdout),
      stderr: dec.decode(out.stderr),
    };
  });
  return { child, output };
}

/** Lines of JSON samples in a text (non-JSON lines, such as warnings, fail the parse). */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
}

export function fixtureArgs(name: string): string[] {
  const dir = `${FIXTURES}/${name}`;
  return ["--procfs", `${dir}/proc`, "--sysfs", `${dir}/sys`, "--rootfs", `${dir}/root`];
}
