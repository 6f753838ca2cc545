/** A real tracker run whose HTTP endpoint is down: its samples end in the spool. */
import { match, strictEqual } from "node:assert/strict";
import { runCli } from "../helpers.ts";

/** A streaming run: samples 0.2 s apart, uploaded every 0.3 s, spooled in `spool`. */
export function streamingArgs(spool: string): string[] {
  return ["-i", "0.2", "--upload-interval", "0.3", "--spool-dir", spool];
}

/** A short run that only uploads: `samples` samples 0.2 s apart, none kept locally. */
export function uploadRunArgs(samples = 3, uploadInterval = "0.2"): string[] {
  return [
    "-i",
    "0.2",
    "--samples",
    String(samples),
    "-o",
    "/dev/null",
    "--upload-interval",
    uploadInterval,
  ];
}

/** Runs the CLI for `samples` samples into `spool`; returns the job directory. */
export async function spoolRun(
  spool: string,
  sink: string,
  o: { extra?: string[]; env?: Record<string, string>; samples?: number } = {},
): Promise<string> {
  const n = o.samples ?? 3;
  const before = new Set(
    (await Array.fromAsync(Deno.readDir(spool)).catch(() => [])).map((e) => e.name),
  );
  const run = await runCli([
    "--spool-dir",
    spool,
    "--flush-timeout",
    "1",
    ...uploadRunArgs(n),
    "--sink",
    sink,
    ...(o.extra ?? []),
  ], { env: o.env ?? {} });
  strictEqual(run.code, 0, run.stderr);
  match(run.stderr, new RegExp(`${n} samples in \\d+ batches not delivered; kept in`));
  const jobs = (await Array.fromAsync(Deno.readDir(spool))).filter((e) => !before.has(e.name));
  strictEqual(jobs.length, 1);
  return `${spool}/${jobs[0]!.name}`;
}

/** Batch files of a job directory, in order. */
export async function batchFiles(job: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(job))).map((e) => e.name)
    .filter((n) => /^\d{6}\./.test(n)).sort();
}
