/**
 * Runs a short-lived command (nvidia-smi) with a hard timeout that kills its whole process group,
 * and a ceiling on the output kept. Never throws: the outcome is a `RunResult`.
 */
import { SPAWNED } from "../../base/spawned.ts";
import { concatBytes } from "../../base/bytes.ts";
import { errorText } from "../../base/errors.ts";

export type RunResult =
  | { ok: true; stdout: string }
  | { ok: false; reason: string; notFound?: boolean };

/** The most output one nvidia-smi call may give (a few KiB normally, per GPU and process). */
export const MAX_OUTPUT_BYTES = 4 << 20;

/** Reads a stream up to MAX_OUTPUT_BYTES; past that calls `over` and drops the rest. */
async function readCapped(s: ReadableStream<Uint8Array>, over: () => void): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const c of s) {
    if (size + c.byteLength > MAX_OUTPUT_BYTES) {
      over();
      continue; // keep draining so the child is not blocked on a full pipe before it dies
    }
    chunks.push(c);
    size += c.byteLength;
  }
  return concatBytes(chunks);
}

/** `child.output()` with a ceiling on what is kept of stdout and stderr. */
async function collect(child: Deno.ChildProcess, over: () => void) {
  const [stdout, stderr, status] = await Promise.all([
    readCapped(child.stdout, over),
    readCapped(child.stderr, over),
    child.status,
  ]);
  return { success: status.success, code: status.code, stdout, stderr };
}

/**
 * Runs a command with a hard timeout. The child gets its own process group (`detached`) so
 * that the timeout kills it and anything it started; stdin is closed, LC_ALL=C for '.' decimals.
 */
export async function runCommand(
  cmd: string,
  args: string[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<RunResult> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(cmd, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { LC_ALL: "C" },
      detached: true,
    }).spawn();
    SPAWNED.add(child.pid);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return { ok: false, reason: "not found", notFound: true };
    }
    return { ok: false, reason: errorText(e) };
  }
  const pid = child.pid;
  let killed: string | undefined;
  const output = collect(child, () => kill(`output over ${MAX_OUTPUT_BYTES} bytes`))
    .finally(() => SPAWNED.delete(pid));
  // A grandchild that left our process group could hold the pipes open: stop waiting then.
  let abandon = () => {};
  const abandoned = new Promise<undefined>((resolve) => (abandon = () => resolve(undefined)));
  let grace: ReturnType<typeof setTimeout> | undefined;
  const kill = (why: string) => {
    if (killed !== undefined) return;
    killed = why;
    grace = setTimeout(abandon, 1000);
    try {
      Deno.kill(-child.pid, "SIGKILL");
    } catch {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }
  };
  const timer = setTimeout(() => kill(`timed out after ${timeoutMs} ms`), timeoutMs);
  const onAbort = () => kill("stopped");
  signal?.addEventListener("abort", onAbort);
  if (signal?.aborted) onAbort();
  try {
    const out = await Promise.race([output, abandoned]);
    if (out === undefined) {
      output.catch(() => {});
      return { ok: false, reason: `${killed}; its output stayed open` };
    }
    if (killed !== undefined) return { ok: false, reason: killed };
    if (!out.success) {
      const err = new TextDecoder().decode(out.stderr).trim().split("\n")[0] ?? "";
      const stdout = new TextDecoder().decode(out.stdout).trim().split("\n")[0] ?? "";
      const msg = (err || stdout).slice(0, 200);
      return { ok: false, reason: `exited with code ${out.code}${msg ? `: ${msg}` : ""}` };
    }
    return { ok: true, stdout: new TextDecoder().decode(out.stdout) };
  } catch (e) {
    return { ok: false, reason: errorText(e) };
  } finally {
    clearTimeout(timer);
    clearTimeout(grace);
    signal?.removeEventListener("abort", onAbort);
  }
}
