/**
 * `flush` sends each spooled job through its kind's `resume` (sinks/registry.ts): what a job
 * needs from the caller's environment is checked by that kind, and said as `JOB: WHY; kept`.
 */
import { deepStrictEqual, match, strictEqual } from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { runFlushCommand } from "../cli/flush.ts";
import { SpoolJob } from "../sinks/spool.ts";
import { testContext } from "./fakes/context.ts";
import { Recorder } from "./fakes/recorder.ts";

const BODY = gzipSync(new TextEncoder().encode('{"timestamp_ms":1}\n'));

async function spoolJob(root: string, id: string, meta: Record<string, unknown>): Promise<void> {
  const job = new SpoolJob(root, id, { version: 1, ext: "jsonl.gz", kind: "", ...meta });
  await job.put(1, BODY, 1);
  await job.release(true);
}

Deno.test("flush dispatches each job to its kind's resume; unknown kinds stay", async () => {
  const dir = await Deno.makeTempDir();
  const root = `${dir}/spool`;
  const rx = new Recorder();
  try {
    await spoolJob(root, "http-plain", {
      kind: "http",
      format: "json",
      url: `${rx.url}/in`,
      run: "r",
    });
    await spoolJob(root, "http-secret", {
      kind: "http",
      format: "json",
      url: "https://example.com/in?***",
      urlHash: "00",
      run: "r",
    });
    await spoolJob(root, "s3-a", {
      kind: "s3",
      ext: "csv.gz",
      bucket: "b-1",
      prefix: "p",
      run: "r",
    });
    await spoolJob(root, "sentinel-a", {
      kind: "sentinel",
      ext: "csv.gz",
      apiUrl: "https://api.example",
      runId: "",
      uris: [],
    });
    await spoolJob(root, "ftp-a", { kind: "ftp" });
    const ctx = testContext(["--spool-dir", root, "--flush-timeout", "2"]);
    strictEqual(await runFlushCommand(ctx, { tuning: { retryBaseMs: 10, retryMaxMs: 20 } }), 1);
    const w = ctx.warnings.join("\n");
    match(w, /^ftp-a: job\.json is not a spool job \(unknown kind "ftp"\); 1 batches left in/m);
    match(
      w,
      /^http-secret: the URL \(https:\/\/example\.com\/in\?\*\*\*\) held credentials, which the spool does not keep; run `flush --sink URL` with the same URL; kept$/m,
    );
    match(w, /^s3-a: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set; kept$/m);
    match(w, /^sentinel-a: SENTINEL_API_TOKEN is not set; kept$/m);
    match(w, /^4 spool jobs left in /m);
    deepStrictEqual(ctx.infos, [`http://${new URL(rx.url).host}/in: 1 samples in 1 batches sent`]);
    strictEqual(rx.requests.length, 1);
  } finally {
    await rx.close();
    await Deno.remove(dir, { recursive: true });
  }
});
