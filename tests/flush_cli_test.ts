/** Nothing lost, through the real CLI: an HTTP sink that is down at exit spools; `flush` sends it. */
import { match, ok, strictEqual } from "node:assert/strict";
import { closedPort } from "./fakes/loopback.ts";
import { HttpReceiver } from "./fakes/http_receiver.ts";
import { uploadRunArgs } from "./fakes/spool_run.ts";
import { jsonLines, runCli } from "./helpers.ts";

Deno.test("CLI: a down HTTP endpoint keeps batches in the spool; `flush` delivers them later", async () => {
  const spool = await Deno.makeTempDir();
  const port = closedPort();
  let receiver: HttpReceiver | undefined;
  try {
    const common = ["--spool-dir", spool, "--flush-timeout", "1"];
    const run = await runCli([
      ...common,
      ...uploadRunArgs(),
      "--sink",
      `http://127.0.0.1:${port}/ingest`,
    ]);
    strictEqual(run.code, 0, run.stderr);
    match(
      run.stderr,
      new RegExp(spool.replaceAll("/", "\\/")),
      "the warning says where the data was kept",
    );

    receiver = new HttpReceiver(port);
    const flush = await runCli(["flush", ...common]);
    strictEqual(flush.code, 0, flush.stderr);
    const samples = jsonLines(receiver.text());
    strictEqual(samples.length, 3);
    strictEqual(new Set(samples.map((s) => s.timestamp_ms)).size, 3, "each sample once");
    strictEqual(receiver.duplicates, 0);

    const again = await runCli(["flush", ...common]);
    strictEqual(again.code, 0, again.stderr);
    ok(receiver.text().split("\n").filter(Boolean).length === 3, "nothing sent twice");
  } finally {
    await receiver?.close();
    await Deno.remove(spool, { recursive: true });
  }
});
