/** Diagnostics go to stderr as whole lines prefixed `warn:` / `error:` (the references' style). */
import { escapeControls } from "./errors.ts";

const encoder = new TextEncoder();

/** Writes all of `text` to a file descriptor-like writer, looping over partial writes. */
export function writeAllSync(w: { writeSync(p: Uint8Array): number }, text: string): void {
  let buf = encoder.encode(text);
  while (buf.length > 0) buf = buf.subarray(w.writeSync(buf));
}

export function warn(line: string): void {
  writeAllSync(Deno.stderr, `warn: ${escapeControls(line)}\n`);
}

export function error(line: string): void {
  writeAllSync(Deno.stderr, `error: ${escapeControls(line)}\n`);
}
