/** Diagnostics go to stderr as whole lines prefixed `warn:` / `error:` (the references' style). */
import { escapeControls } from "./errors.ts";
import { settlesWithin } from "./time.ts";

const encoder = new TextEncoder();

/** Writes all of `text` to a file descriptor-like writer, looping over partial writes. */
export function writeAllSync(w: { writeSync(p: Uint8Array): number }, text: string): void {
  let buf = encoder.encode(text);
  while (buf.length > 0) buf = buf.subarray(w.writeSync(buf));
}

/**
 * Asynchronous writes to stderr in flight (the stderr sample stream). While there are any, a
 * diagnostic is queued behind them instead of written synchronously: when no one reads the
 * pipe, a synchronous write would freeze the tracker, its timers and signal handlers included.
 */
export const stderrWrites = { pending: 0 };

function diagnostic(text: string): void {
  if (stderrWrites.pending === 0) return writeAllSync(Deno.stderr, text);
  void writeWithin(text, 60_000);
}

export function warn(line: string): void {
  diagnostic(`warn: ${escapeControls(line)}\n`);
}

export function error(line: string): void {
  diagnostic(`error: ${escapeControls(line)}\n`);
}

/**
 * Writes `text` to stderr, giving up after `ms`: at exit, a stderr pipe that no one reads must
 * not keep the tracker from exiting (the write goes on in the background until then).
 */
export async function writeWithin(text: string, ms: number): Promise<void> {
  let buf = encoder.encode(text);
  const write = (async () => {
    while (buf.length > 0) buf = buf.subarray(await Deno.stderr.write(buf));
  })().catch(() => {});
  await settlesWithin(write, ms);
}
