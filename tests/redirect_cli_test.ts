/** Issue 20, defect 2 through the real CLI: an HTTP sink never follows a redirect. */
import { match, ok, strictEqual } from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { Recorder } from "./fakes/recorder.ts";
import { uploadRunArgs } from "./fakes/spool_run.ts";
import { jsonLines, runCli } from "./helpers.ts";

Deno.test("CLI: 301/302/303/307/308 from the HTTP sink are failures: warned, kept, flushed later", async () => {
  const spool = await Deno.makeTempDir({ prefix: "rt-redirect-" });
  const statuses = [301, 302, 303, 307, 308];
  let redirecting = true;
  let n = 0;
  // The redirect target answers 200: a client that follows it would count the batch delivered.
  const rx = new Recorder((req) =>
    redirecting && !req.url.includes("/moved")
      ? new Response(null, {
        status: statuses[n++ % statuses.length]!,
        headers: { location: "/moved?token=tok-7731" },
      })
      : new Response(null, { status: redirecting ? 200 : 204 })
  );
  try {
    const common = ["--spool-dir", spool, "--sink", `${rx.url}/in`];
    const run = await runCli([...common, ...uploadRunArgs(), "--flush-timeout", "1"]);
    strictEqual(run.code, 0, run.stderr);
    match(
      run.stderr,
      /HTTP 301 redirect to http:\/\/127\.0\.0\.1:\d+\/moved\?token=\*\*\*, not followed/,
    );
    match(run.stderr, /3 samples in \d+ batches not delivered; kept in/);
    ok(!/tok-7731/.test(run.stderr), run.stderr);
    ok(rx.requests.length >= 2, "retried");
    ok(rx.requests.every((r) => !r.url.includes("/moved")), "the redirect was never followed");

    redirecting = false;
    const before = rx.requests.length;
    const flush = await runCli(["flush", ...common]);
    strictEqual(flush.code, 0, flush.stderr);
    const text = rx.requests.slice(before).map((r) => new TextDecoder().decode(gunzipSync(r.body)))
      .join("");
    strictEqual(jsonLines(text).length, 3, "every sample arrives once the redirect is gone");
  } finally {
    await rx.close();
    await Deno.remove(spool, { recursive: true });
  }
});
