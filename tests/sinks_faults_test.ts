/** Fault cases for the remote sinks: 4xx, timeouts, refused connections, full disk, flush. */
import { deepStrictEqual, match, ok, rejects, strictEqual } from "node:assert/strict";
import { UsageError } from "../base/errors.ts";
import { sleep } from "../base/time.ts";
import { runFlushCommand } from "../cli/flush.ts";
import { createSinks, type SinkTestHooks } from "../sinks/mod.ts";
import { DENO_FS, type SpoolFs } from "../sinks/spool.ts";
import { testContext } from "./fakes/context.ts";
import { closedPort } from "./fakes/loopback.ts";
import { HttpReceiver } from "./fakes/http_receiver.ts";
import { makeSample, range, sampleIds, waitFor } from "./fakes/samples.ts";
import { FakeS3 } from "./fakes/s3.ts";
import { withTempDir } from "./helpers.ts";

const TUNING = { retryBaseMs: 30, retryMaxMs: 150, requestTimeoutMs: 2_000 };
const HOOKS: SinkTestHooks = { tuning: TUNING };

const withDir = (f: (dir: string) => Promise<void>) => withTempDir("rt-faults-", f);

/** Runs `f` with a spool directory and an HTTP receiver, both gone afterwards. */
async function withReceiver(f: (rx: HttpReceiver, dir: string) => Promise<void>) {
  await withDir(async (dir) => {
    const rx = new HttpReceiver();
    try {
      await f(rx, dir);
    } finally {
      await rx.close();
    }
  });
}

/** A context for one HTTP sink at `url` spooling into `dir`, plus `extra` arguments. */
function httpContext(url: string, dir: string, ...extra: string[]) {
  return testContext(["--sink", url, "--spool-dir", dir, ...extra]);
}

async function spoolBatches(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const job of Deno.readDir(dir)) {
    for await (const f of Deno.readDir(`${dir}/${job.name}`)) {
      if (/^\d{6}\./.test(f.name)) out.push(`${job.name}/${f.name}`);
    }
  }
  return out.sort();
}

Deno.test("http: 400 is not retried, reported once, kept; later batches still go", async () => {
  await withReceiver(async (rx, dir) => {
    const ctx = httpContext(`${rx.url}/in?key=q-secret-1`, dir, "--upload-interval", "0.1");
    const set = await createSinks(ctx, HOOKS);
    rx.faults.queue.push({ status: 400 });
    set.write(makeSample(0));
    ok(await waitFor(() => rx.requests === 1));
    await sleep(100);
    set.write(makeSample(1));
    ok(await waitFor(() => rx.batches.size === 1));
    strictEqual(rx.requests, 2, "the 400 batch was not retried");
    await set.close({ exitCode: 0 });
    deepStrictEqual(sampleIds(rx.text()), [1]);
    strictEqual(
      ctx.warnings.filter((l) =>
        /HTTP 400 Bad Request: "fault 400"; not retrying, batch kept/.test(l)
      ).length,
      1,
    );
    ok(ctx.warnings.every((l) => !l.includes("q-secret-1")), ctx.warnings.join("\n"));
    match(ctx.warnings.at(-1)!, /1 samples in 1 batches not delivered; kept in/);
    strictEqual((await spoolBatches(dir)).length, 1);
  });
});

Deno.test("http: 408 and 429 are retried; bearer token from the named variable", async () => {
  await withReceiver(async (rx, dir) => {
    const ctx = testContext(
      ["--sink", `${rx.url}/in`, "--spool-dir", dir, "--http-token-env", "MY_TOKEN"],
      { MY_TOKEN: "bearer-secret-777" },
    );
    const set = await createSinks(ctx, HOOKS);
    rx.faults.queue.push({ status: 408 }, { status: 429 });
    for (let i = 0; i < 3; i++) set.write(makeSample(i));
    await set.close({ exitCode: 0 });
    deepStrictEqual(sampleIds(rx.text()), range(3));
    strictEqual(rx.requests, 3);
    const b = [...rx.batches.values()][0]!;
    strictEqual(b.authorization, "Bearer bearer-secret-777");
    strictEqual(b.contentType, "application/x-ndjson");
    ok(ctx.warnings.every((l) => !l.includes("bearer-secret-777")));
  });
});

Deno.test("http: a timed-out request is retried with the same idempotency key", async () => {
  await withReceiver(async (rx, dir) => {
    const ctx = httpContext(`${rx.url}/in#format=csv`, dir);
    const set = await createSinks(ctx, { tuning: { ...TUNING, requestTimeoutMs: 150 } });
    rx.faults.queue.push({ delayMs: 600, slowOk: true });
    for (let i = 0; i < 4; i++) set.write(makeSample(i));
    await set.close({ exitCode: 0 });
    ok(rx.duplicates >= 1, "the receiver saw the retry");
    strictEqual(rx.batches.size, 1);
    strictEqual([...rx.batches.values()][0]!.contentType, "text/csv");
    deepStrictEqual(sampleIds(rx.text()), range(4));
    match(ctx.warnings[0]!, /upload failed \(timed out\); retrying/);
  });
});

Deno.test("http: connection refused until the receiver starts", async () => {
  await withDir(async (dir) => {
    const port = closedPort();
    const ctx = httpContext(`http://127.0.0.1:${port}/in`, dir, "--upload-interval", "0.1");
    const set = await createSinks(ctx, HOOKS);
    for (let i = 0; i < 5; i++) set.write(makeSample(i));
    await sleep(300);
    const rx = new HttpReceiver(port);
    try {
      await set.close({ exitCode: 0 });
      deepStrictEqual(sampleIds(rx.text()), range(5));
      match(ctx.warnings[0]!, /upload failed .*retrying/);
    } finally {
      await rx.close();
    }
  });
});

Deno.test("outage past the flush timeout: spooled at exit, `flush` sends it later", async () => {
  await withReceiver(async (rx, dir) => {
    rx.faults.always = { status: 503 };
    const args = ["--sink", `${rx.url}/in`, "--spool-dir", dir, "--flush-timeout", "0.3"];
    const ctx = testContext([...args, "--upload-interval", "0.1"]);
    const set = await createSinks(ctx, HOOKS);
    for (let i = 0; i < 3; i++) set.write(makeSample(i));
    await sleep(200);
    for (let i = 3; i < 6; i++) set.write(makeSample(i));
    await set.close({ exitCode: 0 });
    match(
      ctx.warnings.at(-1)!,
      /^http:\/\/127\.0\.0\.1:\d+\/in: 6 samples in \d batches not delivered; kept in ".*" \(send them with `resource-tracker flush`\)$/,
    );
    const kept = await spoolBatches(dir);
    ok(kept.length >= 2);
    for (const f of kept) strictEqual((await Deno.stat(`${dir}/${f}`)).mode! & 0o777, 0o600);
    for await (const job of Deno.readDir(dir)) {
      strictEqual((await Deno.stat(`${dir}/${job.name}`)).mode! & 0o777, 0o700);
    }

    rx.faults.always = null;
    const fctx = testContext(args);
    strictEqual(await runFlushCommand(fctx, HOOKS), 0);
    deepStrictEqual(sampleIds(rx.text()), range(6));
    deepStrictEqual([...rx.batches.values()].map((b) => b.seq).sort(), range(kept.length, 1));
    deepStrictEqual(await spoolBatches(dir), []);
    strictEqual(await runFlushCommand(fctx, HOOKS), 0);
    match(fctx.infos.at(-1)!, /nothing to flush/);
  });
});

Deno.test("memory tight: batches go to the spool during an outage and come back", async () => {
  await withReceiver(async (rx, dir) => {
    rx.faults.always = { status: 503 };
    const ctx = httpContext(`${rx.url}/in`, dir, "--upload-interval", "0.1");
    const set = await createSinks(ctx, { tuning: { ...TUNING, memLimitBytes: 1 } });
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 5; i++) set.write(makeSample(round * 5 + i));
      await sleep(130);
    }
    ok((await spoolBatches(dir)).length >= 2, "spooled while memory was tight");
    rx.faults.always = null;
    await set.close({ exitCode: 0 });
    deepStrictEqual(sampleIds(rx.text()).sort((a, b) => a - b), range(20));
    deepStrictEqual(await spoolBatches(dir), []);
    deepStrictEqual(await Array.fromAsync(Deno.readDir(dir)), [], "job directory removed");
  });
});

/** A spool whose every new file fails as a full disk does, with `message`. */
function fullDisk(message: string): SpoolFs {
  return { ...DENO_FS, writeNew: () => Promise.reject(new Error(message)) };
}

Deno.test("full disk: spool writes fail (ENOSPC) → kept in memory, delivered on recovery", async () => {
  await withReceiver(async (rx, dir) => {
    rx.faults.always = { status: 503 };
    const ctx = httpContext(`${rx.url}/in`, dir, "--upload-interval", "0.1");
    const set = await createSinks(ctx, {
      tuning: { ...TUNING, memLimitBytes: 1 },
      spoolFs: fullDisk("No space left on device (os error 28): write"),
    });
    for (let i = 0; i < 10; i++) {
      set.write(makeSample(i));
      if (i % 3 === 2) await sleep(120);
    }
    rx.faults.always = null;
    await set.close({ exitCode: 0 });
    deepStrictEqual(sampleIds(rx.text()).sort((a, b) => a - b), range(10));
    strictEqual(
      ctx.warnings.filter((l) => /cannot write spool .*No space left on device/.test(l)).length,
      1,
    );
  });
});

Deno.test("full disk and endpoint down at exit: one line says how many samples were lost", async () => {
  await withReceiver(async (rx, dir) => {
    rx.faults.always = { status: 503 };
    const ctx = httpContext(`${rx.url}/in`, dir, "--flush-timeout", "0.2");
    const set = await createSinks(ctx, {
      tuning: TUNING,
      spoolFs: fullDisk("No space left on device (os error 28)"),
    });
    for (let i = 0; i < 4; i++) set.write(makeSample(i));
    await set.close({ exitCode: 0 });
    match(ctx.warnings.at(-1)!, /4 samples lost \(No space left on device/);
  });
});

Deno.test("s3 sink: static keys, run segment, JSON Lines by fragment, 403 reported", async () => {
  await withDir(async (dir) => {
    const s3 = new FakeS3();
    s3.keys.set("AKIASTATIC00000001", { secret: "static-secret-xyz" });
    try {
      const env = {
        AWS_ACCESS_KEY_ID: "AKIASTATIC00000001",
        AWS_SECRET_ACCESS_KEY: "static-secret-xyz",
        AWS_ENDPOINT_URL_S3: s3.url,
      };
      const ctx = testContext(
        ["--sink", "s3://my-bucket/a/b#format=json", "--spool-dir", dir],
        env,
      );
      const set = await createSinks(ctx, HOOKS);
      for (let i = 0; i < 3; i++) set.write(makeSample(i));
      await set.close({ exitCode: 0 });
      const keys = [...s3.objects.keys()].filter((k) => k.endsWith(".gz"));
      strictEqual(keys.length, 1);
      match(keys[0]!, /^my-bucket\/a\/b\/\d{8}T\d{6}Z-\d+-[0-9a-f]{8}\/000001\.jsonl\.gz$/);
      // The run manifest sits next to the batches, with the run's metadata and tags.
      const manifest = JSON.parse(
        new TextDecoder().decode(
          s3.objects.get(keys[0]!.replace(/000001\.jsonl\.gz$/, "run.json")),
        ),
      );
      strictEqual(manifest.format, "jsonl");
      strictEqual(manifest.metadata.job_name, "sink-test");
      deepStrictEqual(manifest.tags, { team: "infra", stage: "ci" });
      deepStrictEqual(manifest.command, ["stress", "--cpu", "4"]);
      strictEqual(
        s3.calls.find((c) => c.method === "PUT")!.signedHeaders,
        "host;x-amz-content-sha256;x-amz-date",
      );
      strictEqual(s3.calls.find((c) => c.method === "PUT")!.region, "eu-west-3", "probed region");

      const bad = testContext(["--sink", "s3://my-bucket/x", "--spool-dir", dir], {
        ...env,
        AWS_SECRET_ACCESS_KEY: "wrong-secret-abc",
        AWS_REGION: "us-east-1",
      });
      const set2 = await createSinks(bad, HOOKS);
      set2.write(makeSample(0));
      await set2.close({ exitCode: 0 });
      strictEqual(
        bad.warnings.filter((l) =>
          /s3:\/\/my-bucket\/x: (run manifest: )?HTTP 403 SignatureDoesNotMatch: The request signature we calculated does not match.*; not retrying/
            .test(l)
        ).length,
        1,
      );
      ok(bad.warnings.every((l) => !l.includes("wrong-secret-abc")));
    } finally {
      await s3.close();
    }
  });
});

Deno.test("createSinks: bad --sink values are usage errors naming them", async () => {
  const cases: [string[], Record<string, string>, RegExp][] = [
    [["--sink", "ftp://host/x"], {}, /^--sink ftp:\/\/host\/x: unsupported scheme/],
    [
      ["--sink", "s3://Bad_Bucket/x"],
      { AWS_ACCESS_KEY_ID: "a", AWS_SECRET_ACCESS_KEY: "b" },
      /^--sink s3:\/\/Bad_Bucket\/x: bucket name "Bad_Bucket" has uppercase letters; bucket names are lowercase$/,
    ],
    [["--sink", "s3://bucket/x"], {}, /AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set/],
    [["--sink", "https://u:pw@[bad/x"], {}, /^--sink https:\/\/\[bad\/x: not a valid URL/],
    [["--sink", "/tmp/a.jsonl", "--sink", "/tmp/a.jsonl"], {}, /the same file is named twice/],
    [["--sink", ""], {}, /empty value/],
  ];
  for (const [args, env, re] of cases) {
    await rejects(() => createSinks(testContext(args, env)), (err: unknown) => {
      ok(err instanceof UsageError, String(err));
      match(err.message, re);
      ok(!err.message.includes("pw"));
      return true;
    });
  }
});

Deno.test("createSinks: TRACKER_SINKS adds sinks; --output file gets --format", async () => {
  await withDir(async (dir) => {
    const ctx = testContext(["--format", "csv"], { TRACKER_SINKS: `${dir}/a.jsonl,${dir}/b.csv` });
    const set = await createSinks(ctx);
    set.write(makeSample(0));
    await set.close({ exitCode: 0 });
    match(await Deno.readTextFile(`${dir}/a.jsonl`), /^\{/);
    match(await Deno.readTextFile(`${dir}/b.csv`), /^timestamp,/);
  });
});

Deno.test("http: every redirect status is a retried failure, never a delivery", async () => {
  for (const status of [301, 302, 303, 307, 308]) {
    await withReceiver(async (rx, dir) => {
      const ctx = httpContext(`${rx.url}/in`, dir);
      const set = await createSinks(ctx, HOOKS);
      rx.faults.queue.push({ status }, { status });
      for (let i = 0; i < 2; i++) set.write(makeSample(i));
      await set.close({ exitCode: 0 });
      deepStrictEqual(sampleIds(rx.text()), range(2), `after ${status}`);
      strictEqual(rx.requests, 3, `${status} retried`);
      match(ctx.warnings[0]!, new RegExp(`HTTP ${status} redirect to .*not followed`));
    });
  }
});
