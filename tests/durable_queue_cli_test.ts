/**
 * Issue 20, defect 5 through the real CLI: during an outage every cut batch is on disk before
 * the next try, so `flush` after a SIGKILL delivers them. Only the open batch (at most one
 * upload interval of samples) lives in memory.
 */
import { ok, strictEqual } from "node:assert/strict";
import { sleep } from "../base/time.ts";
import { closedPort } from "./fakes/loopback.ts";
import { HttpReceiver } from "./fakes/http_receiver.ts";
import { jsonLines, runCli, type RunOptions, spawnCli } from "./helpers.ts";

async function spooledBatches(spool: string): Promise<number> {
  let n = 0;
  for await (const job of Deno.readDir(spool)) {
    for await (const f of Deno.readDir(`${spool}/${job.name}`)) if (/^\d{6}\./.test(f.name)) n++;
  }
  return n;
}

/** Starts a run that cuts a batch every 0.4 s into `<dir>/spool`; returns once 4 are there (or 15 s). */
async function runUntilSpooled(dir: string, args: string[], o: RunOptions = {}) {
  const run = spawnCli([...args, "-i", "0.2", "--upload-interval", "0.4"], o);
  for (let i = 0; i < 150; i++) {
    if (await spooledBatches(`${dir}/spool`).catch(() => 0) >= 4) break;
    await sleep(100);
  }
  return run;
}

Deno.test("CLI: HTTP down, tracker SIGKILLed, endpoint back: `flush` delivers every cut batch", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rt-durable-" });
  const port = closedPort();
  let rx: HttpReceiver | undefined;
  try {
    const common = ["--spool-dir", `${dir}/spool`, "--sink", `http://127.0.0.1:${port}/in`];
    // Until several batches failed and were cut (the spool shows them).
    const { child, output } = await runUntilSpooled(dir, [
      ...common,
      "--format",
      "json",
      "-o",
      `${dir}/local.jsonl`,
    ]);
    child.kill("SIGSTOP"); // freeze: the local file and the spool stop changing
    await sleep(200);
    const batches = await spooledBatches(`${dir}/spool`);
    const local = jsonLines(await Deno.readTextFile(`${dir}/local.jsonl`));
    child.kill("SIGKILL");
    strictEqual((await output).signal, "SIGKILL");
    ok(batches >= 4, `${batches} batches spooled`);

    rx = new HttpReceiver(port);
    const flush = await runCli(["flush", ...common]);
    strictEqual(flush.code, 0, flush.stderr);
    const got = jsonLines(rx.text()).map((s) => s.timestamp_ms);
    const want = local.map((s) => s.timestamp_ms);
    // Delivered in order, each once, from the run's first sample; what is missing is only the
    // open batch at the kill: at most one upload interval (2 samples, +1 of slack). (The local
    // file may lag the batches by a write, so it is compared up to its last 3 samples.)
    ok(got.every((t, i) => i === 0 || Number(t) > Number(got[i - 1])), "in order, once each");
    strictEqual(got[0], want[0]);
    const have = new Set(got);
    const missing = want.slice(0, -3).filter((t) => !have.has(t));
    strictEqual(missing.length, 0, `${missing.length} of ${want.length} samples missing`);
    strictEqual(rx.duplicates, 0);
  } finally {
    await rx?.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CLI: Sentinel's S3 down, tracker SIGKILLed: `flush` uploads the spooled batches and finishes the run", async () => {
  const { FakeS3 } = await import("./fakes/s3.ts");
  const { FakeSentinel } = await import("./fakes/sentinel.ts");
  const s3 = new FakeS3();
  const api = new FakeSentinel(s3, { region: "eu-central-1" });
  const dir = await Deno.makeTempDir({ prefix: "rt-durable-s-" });
  const env = api.env();
  try {
    s3.faults.always = { status: 503 }; // uploads fail; the API itself answers
    const common = ["--spool-dir", `${dir}/spool`];
    const { child, output } = await runUntilSpooled(
      dir,
      [...common, "--format", "csv", "-o", `${dir}/local.csv`],
      { env },
    );
    child.kill("SIGKILL");
    strictEqual((await output).signal, "SIGKILL");
    const batches = await spooledBatches(`${dir}/spool`);
    ok(batches >= 4, `${batches} batches spooled`);

    s3.faults.always = null;
    const flush = await runCli(["flush", ...common], { env });
    strictEqual(flush.code, 0, flush.stderr);
    const rows = [...s3.texts().values()].join("").split("\n")
      .filter((l) => l !== "" && !l.startsWith("timestamp"));
    ok(rows.length >= batches, `${rows.length} rows uploaded from ${batches} batches`);
    const finish = api.calls.find((c) => c.path.endsWith("/finish"));
    ok(finish, "the run was finished");
    strictEqual((finish.body!.data_uris as string[]).length, s3.objects.size);
  } finally {
    await api.close();
    await s3.close();
    await Deno.remove(dir, { recursive: true });
  }
});
