/** Sentinel lifecycle against the loopback fakes: register, upload, refresh, finish, flush. */
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { sleep } from "../base/time.ts";
import { CSV_HEADER } from "../formats/csv.ts";
import { runFlushCommand } from "../cli/flush.ts";
import { createSinks, type SinkTestHooks } from "../sinks/mod.ts";
import { TEST_RUN, testContext } from "./fakes/context.ts";
import { blackhole, closedPort } from "./fakes/loopback.ts";
import { makeSample, range, sampleIds, waitFor } from "./fakes/samples.ts";
import { FakeS3 } from "./fakes/s3.ts";
import { FakeSentinel, type FakeSentinelOptions } from "./fakes/sentinel.ts";

const HOOKS: SinkTestHooks = {
  tuning: { retryBaseMs: 30, retryMaxMs: 150, requestTimeoutMs: 2_000 },
  cloudWaitMs: 100,
};

async function world(o: FakeSentinelOptions = {}) {
  const s3 = new FakeS3();
  const api = new FakeSentinel(s3, o);
  const dir = await Deno.makeTempDir({ prefix: "rt-sentinel-" });
  const env = api.env();
  const ctx = (args: string[] = [], extra: Record<string, string> = {}) =>
    testContext(["--spool-dir", dir, "--flush-timeout", "5", ...args], { ...env, ...extra });
  return {
    s3,
    api,
    dir,
    env,
    ctx,
    async dispose() {
      await api.close();
      await s3.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

type World = Awaited<ReturnType<typeof world>>;

/** Runs `f` in a fresh world (fakes built with `o`), disposed of afterwards. */
async function inWorld(f: (w: World) => Promise<void>, o: FakeSentinelOptions = {}) {
  const w = await world(o);
  try {
    await f(w);
  } finally {
    await w.dispose();
  }
}

async function spoolFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      if (e.isDirectory) await walk(`${d}/${e.name}`);
      else out.push(`${d}/${e.name}`.slice(dir.length + 1));
    }
  };
  await walk(dir).catch(() => {});
  return out.sort();
}

Deno.test("sentinel: full run registers, uploads contiguous batches and finishes via s3", async () => {
  await inWorld(async (w) => {
    const ctx = w.ctx(["--upload-interval", "0.1"]);
    const set = await createSinks(ctx, HOOKS);
    for (let i = 0; i < 12; i++) {
      set.write(makeSample(i, 4242));
      if (i % 4 === 3) await sleep(150);
    }
    await set.close({ exitCode: 3 });

    const runs = w.api.calls_(/^\/runs$/);
    strictEqual(runs.length, 1);
    const body = runs[0]!.body!;
    strictEqual(runs[0]!.contentType, "application/json");
    strictEqual(body["command"], JSON.stringify(["stress", "--cpu", "4"]));
    deepStrictEqual(body["tags"], { team: "infra", stage: "ci" });
    strictEqual(body["job_name"], "sink-test");
    strictEqual(body["project_name"], null);
    strictEqual(body["host_hostname"], "box");
    strictEqual(body["cloud_vendor_id"], null);
    ok(!("pid" in body));

    const keys = [...w.s3.objects.keys()];
    const runId = w.api.calls_(/\/finish$/)[0]!.path.split("/")[2]!;
    ok(keys.length >= 2, `several batches: ${keys}`);
    deepStrictEqual(
      keys,
      range(keys.length, 1).map((n) =>
        `sentinel-bucket/uploads/${runId}/${String(n).padStart(6, "0")}.csv.gz`
      ),
    );
    for (const text of w.s3.texts().values()) ok(text.startsWith(CSV_HEADER));
    deepStrictEqual([...w.s3.texts().values()].flatMap(sampleIds), range(12));
    const puts = w.s3.calls.filter((c) => c.method === "PUT");
    ok(puts.every((c) => c.contentType === "application/gzip"));
    ok(
      puts.every((c) =>
        c.signedHeaders === "host;x-amz-content-sha256;x-amz-date;x-amz-security-token"
      ),
    );
    ok(puts.every((c) => c.region === "eu-central-1"));

    const fin = w.api.calls_(/\/finish$/)[0]!;
    strictEqual(fin.contentType, "application/json");
    strictEqual(fin.contentEncoding, null);
    strictEqual(fin.body!["exit_code"], 3);
    strictEqual(fin.body!["run_status"], "failed");
    strictEqual(fin.body!["data_source"], "s3");
    match(fin.body!["finished_at"] as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    deepStrictEqual(fin.body!["data_uris"], keys.map((k) => `s3://${k}`));
    deepStrictEqual(ctx.warnings, []);
    deepStrictEqual(await spoolFiles(w.dir), []);
  }, { region: "eu-central-1" });
});

Deno.test("sentinel: S3 down the whole run → inline finish with every sample", async () => {
  await inWorld(async (w) => {
    w.s3.faults.always = { status: 503 };
    const ctx = w.ctx(["--upload-interval", "0.1", "--flush-timeout", "1"]);
    const set = await createSinks(ctx, HOOKS);
    for (let i = 0; i < 7; i++) set.write(makeSample(i));
    await sleep(200);
    await set.close({ exitCode: 0 });
    const fin = w.api.calls_(/\/finish$/)[0]!.body!;
    strictEqual(fin["data_source"], "inline");
    strictEqual(fin["run_status"], "finished");
    strictEqual(fin["exit_code"], 0);
    ok((fin["data_csv"] as string).startsWith(CSV_HEADER));
    deepStrictEqual(sampleIds(fin["data_csv"] as string), range(7));
    ok(!("data_uris" in fin));
    deepStrictEqual(await spoolFiles(w.dir), []);
  });
});

Deno.test("sentinel: expired credentials (403) are refreshed and the batch retried", async () => {
  await inWorld(async (w) => {
    const ctx = w.ctx(["--upload-interval", "0.1"]);
    const set = await createSinks(ctx, HOOKS);
    set.write(makeSample(0));
    ok(await waitFor(() => w.s3.objects.size === 1));
    for (const k of w.api.issued) w.s3.keys.get(k)!.expired = true;
    set.write(makeSample(1));
    ok(await waitFor(() => w.s3.objects.size === 2));
    await set.close({ exitCode: 0 });
    strictEqual(w.api.calls_(/refresh-credentials$/).length, 1);
    ok(w.s3.calls.some((c) => c.status === 403));
    const fin = w.api.calls_(/\/finish$/)[0]!.body!;
    strictEqual((fin["data_uris"] as string[]).length, 2);
    match((fin["data_uris"] as string[])[1]!, /\/000002\.csv\.gz$/);
  }, { expiryKey: "expires_at" });
});

Deno.test("sentinel: credentials with <= 300 s left are refreshed before the upload", async () => {
  await inWorld(async (w) => {
    const set = await createSinks(w.ctx(["--upload-interval", "60"]), HOOKS);
    set.write(makeSample(0));
    await set.close({ exitCode: 0 });
    strictEqual(w.api.calls_(/refresh-credentials$/).length, 1);
    strictEqual(w.s3.objects.size, 1);
    // The upload used the refreshed key, not the first one.
    strictEqual(w.api.issued.length, 2);
  }, { ttlSecs: 200 });
});

Deno.test("sentinel: no region in the credentials → HEAD probe on the endpoint override", async () => {
  await inWorld(async (w) => {
    w.s3.bucketRegion = "ap-south-2";
    const set = await createSinks(w.ctx(), HOOKS);
    set.write(makeSample(0));
    await set.close({ exitCode: 0 });
    deepStrictEqual(
      w.s3.calls.filter((c) => c.method === "HEAD").map((c) => c.path),
      ["/sentinel-bucket"],
    );
    strictEqual(w.s3.calls.find((c) => c.method === "PUT")!.region, "ap-south-2");
  });
});

Deno.test("sentinel: SENTINEL_API_KEY alias works; registration waits for cloud, writes do not", async () => {
  await inWorld(async (w) => {
    let cloudAsked = 0;
    const run = {
      ...TEST_RUN,
      command: null,
      cloud: (ms: number) => {
        cloudAsked = ms;
        return new Promise<Record<string, unknown>>((r) =>
          setTimeout(() => r({ cloud_vendor_id: "aws", cloud_region_id: "eu-west-1" }), 150)
        );
      },
    };
    const env = { ...w.env, SENTINEL_API_KEY: w.env["SENTINEL_API_TOKEN"]! };
    delete (env as Record<string, string | undefined>)["SENTINEL_API_TOKEN"];
    const ctx = testContext(["--spool-dir", w.dir], env, run);
    const set = await createSinks(ctx, { ...HOOKS, cloudWaitMs: 3_000 });
    const t0 = performance.now();
    for (let i = 0; i < 3; i++) set.write(makeSample(i));
    ok(performance.now() - t0 < 50);
    strictEqual(w.api.calls.length, 0, "not registered yet");
    await set.close({ exitCode: 0 });
    strictEqual(cloudAsked, 3_000);
    const body = w.api.calls_(/^\/runs$/)[0]!.body!;
    strictEqual(body["cloud_vendor_id"], "aws");
    strictEqual(body["command"], null);
    deepStrictEqual([...w.s3.texts().values()].flatMap(sampleIds), range(3));
  });
});

Deno.test("sentinel: unreachable API for the whole run → the run is kept in the spool; flush registers, uploads and finishes it once", async () => {
  const port = closedPort();
  const dir = await Deno.makeTempDir();
  const token = "tok-unreachable-1234";
  let w: { s3: FakeS3; api: FakeSentinel } | null = null;
  try {
    const env = { SENTINEL_API_TOKEN: token, SENTINEL_API_URL: `http://127.0.0.1:${port}` };
    const ctx = testContext(["--spool-dir", dir, "--upload-interval", "0.1"], env);
    const set = await createSinks(ctx, HOOKS);
    for (let i = 0; i < 5; i++) {
      set.write(makeSample(i));
      await sleep(40);
    }
    const t0 = Date.now();
    await set.close({ exitCode: 7 });
    // A refused connection is an answer: exit does not sit out the 10 s flush timeout.
    ok(Date.now() - t0 < 5_000, `close took ${Date.now() - t0} ms`);
    strictEqual(ctx.warnings.length, 2, ctx.warnings.join("\n"));
    match(
      ctx.warnings[0]!,
      /^Sentinel registration failed \(cannot reach http:\/\/127\.0\.0\.1:\d+\/: connection refused\); retrying in the background; samples are kept for Sentinel$/i,
    );
    match(
      ctx.warnings[1]!,
      /the run \(5 samples\) is kept in ".+"; send it with `resource-tracker flush`/,
    );
    ok(ctx.warnings[1]!.includes(dir), ctx.warnings[1]);
    ok((await spoolFiles(dir)).some((f) => f.endsWith("/job.json")));
    const before = await spoolFiles(dir);

    // `flush` while the API is still down: exit 1, nothing lost.
    const early = testContext(["--spool-dir", dir], env);
    strictEqual(await runFlushCommand(early, HOOKS), 1);
    match(early.warnings.join("\n"), /registration failed \(cannot reach .*\); kept/);
    deepStrictEqual(await spoolFiles(dir), before);

    const s3 = new FakeS3();
    const api = new FakeSentinel(s3, { token }, port);
    w = { s3, api };
    const fctx = testContext(["--spool-dir", dir], { ...env, AWS_ENDPOINT_URL_S3: s3.url });
    strictEqual(await runFlushCommand(fctx, HOOKS), 0, fctx.warnings.join("\n"));
    deepStrictEqual(api.calls.map((c) => c.path.replace(/run-[^/]+/, "ID")), [
      "/runs",
      "/runs/ID/finish",
    ]);
    const reg = api.calls[0]!.body!;
    strictEqual(reg["job_name"], "sink-test");
    const fin = api.calls[1]!.body!;
    strictEqual(fin["exit_code"], 7);
    strictEqual(fin["run_status"], "failed");
    strictEqual(fin["data_source"], "s3");
    deepStrictEqual([...s3.texts().values()].flatMap(sampleIds), range(5));
    deepStrictEqual(await spoolFiles(dir), []);
    strictEqual(await runFlushCommand(fctx, HOOKS), 0);
    strictEqual(api.calls.length, 2, "a second flush sends nothing");
  } finally {
    await w?.api.close();
    await w?.s3.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sentinel: an API that accepts connections and never answers costs at most the flush timeout; the run is kept", async () => {
  const hole = blackhole();
  const dir = await Deno.makeTempDir();
  try {
    const ctx = testContext(["--spool-dir", dir, "--flush-timeout", "1"], {
      SENTINEL_API_TOKEN: "tok-blackhole-1234",
      SENTINEL_API_URL: hole.url,
    });
    const set = await createSinks(ctx, HOOKS);
    set.write(makeSample(0));
    const t0 = Date.now();
    await set.close({ exitCode: 2 });
    const took = Date.now() - t0;
    ok(took < 1_000 + 1_500, `close took ${took} ms`);
    ok(hole.hits.length >= 1, "the API was asked");
    match(
      ctx.warnings.at(-1)!,
      /^Sentinel registration got no answer before exit; the run \(1 samples\) is kept in ".+"; send it with `resource-tracker flush` once the API is reachable$/,
    );
    ok((await spoolFiles(dir)).some((f) => f.endsWith("job.json")));
  } finally {
    await hole.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sentinel: API down at start and back during the run → registered late, nothing kept", async () => {
  const port = closedPort();
  const s3 = new FakeS3();
  let api: FakeSentinel | null = null;
  const dir = await Deno.makeTempDir();
  try {
    const token = "sentinel-test-token-123";
    const ctx = testContext(["--spool-dir", dir, "--upload-interval", "0.1"], {
      SENTINEL_API_TOKEN: token,
      SENTINEL_API_URL: `http://127.0.0.1:${port}`,
      AWS_ENDPOINT_URL_S3: s3.url,
    });
    const set = await createSinks(ctx, HOOKS);
    for (let i = 0; i < 3; i++) set.write(makeSample(i));
    await waitFor(() => ctx.warnings.length > 0, 5_000);
    api = new FakeSentinel(s3, { token }, port);
    await waitFor(() => api!.calls.length > 0, 5_000);
    for (let i = 3; i < 6; i++) set.write(makeSample(i));
    await set.close({ exitCode: 0 });
    strictEqual(ctx.warnings.length, 1, ctx.warnings.join("\n"));
    strictEqual(api.calls_(/^\/runs$/).length, 1);
    const fin = api.calls_(/finish$/)[0]!.body!;
    strictEqual(fin["exit_code"], 0);
    deepStrictEqual([...s3.texts().values()].flatMap(sampleIds), range(6));
    deepStrictEqual(await spoolFiles(dir), []);
  } finally {
    await api?.close();
    await s3.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sentinel: rejected token (401) is one line without the response body", async () => {
  await inWorld(async (w) => {
    const ctx = w.ctx([], { SENTINEL_API_TOKEN: "wrong-token-98765" });
    const set = await createSinks(ctx, HOOKS);
    await set.close({ exitCode: 0 });
    strictEqual(ctx.warnings.length, 2, ctx.warnings.join("\n"));
    match(ctx.warnings[0]!, /HTTP 401, \d+ bytes\); not retrying/);
    match(ctx.warnings[1]!, /kept in .*resource-tracker flush/);
    for (const l of ctx.warnings) ok(!l.includes("bad token") && !l.includes("wrong-token-98765"));
  });
});

Deno.test("sentinel: /finish failing is kept in the spool and `flush` finishes the run", async () => {
  await inWorld(async (w) => {
    w.api.faults.finish.always = { status: 502 };
    const ctx = w.ctx(["--upload-interval", "0.1"]);
    const set = await createSinks(ctx, HOOKS);
    for (let i = 0; i < 4; i++) set.write(makeSample(i));
    await set.close({ exitCode: 0 });
    strictEqual(ctx.warnings.length, 1);
    match(
      ctx.warnings[0]!,
      /finish failed \(HTTP 502.*kept in ".*" \(finish it with `resource-tracker flush`\)/,
    );
    ok((await spoolFiles(w.dir)).some((f) => f.endsWith("job.json")));

    w.api.faults.finish.always = null;
    const fctx = w.ctx();
    strictEqual(await runFlushCommand(fctx, HOOKS), 0);
    const fins = w.api.calls_(/\/finish$/).filter((c) => c.status === 200);
    strictEqual(fins.length, 1);
    strictEqual(fins[0]!.body!["data_source"], "s3");
    deepStrictEqual(await spoolFiles(w.dir), []);
  });
});

Deno.test("sentinel: some batches uploaded, rest spooled; flush uploads them contiguously", async () => {
  await inWorld(async (w) => {
    const ctx = w.ctx(["--upload-interval", "0.1", "--flush-timeout", "0.5"]);
    const set = await createSinks(ctx, HOOKS);
    set.write(makeSample(0));
    ok(await waitFor(() => w.s3.objects.size === 1));
    w.s3.faults.always = { status: 500 };
    for (let i = 1; i < 6; i++) set.write(makeSample(i));
    await set.close({ exitCode: 0 });
    strictEqual(w.api.calls_(/\/finish$/).length, 0, "not finished with data missing");
    match(ctx.warnings.at(-1)!, /some batches are not uploaded yet; run kept in/);
    const files = await spoolFiles(w.dir);
    ok(files.some((f) => /\/000002\.csv\.gz$/.test(f)), files.join());
    ok(files.every((f) => !f.includes(w.api.o.token)));

    w.s3.faults.always = null;
    const fctx = w.ctx();
    strictEqual(await runFlushCommand(fctx, HOOKS), 0);
    const fin = w.api.calls_(/\/finish$/)[0]!.body!;
    strictEqual(fin["data_source"], "s3");
    deepStrictEqual(
      (fin["data_uris"] as string[]).map((u) => u.slice(-13)),
      ["000001.csv.gz", "000002.csv.gz"],
    );
    deepStrictEqual([...w.s3.texts().values()].flatMap(sampleIds), range(6));
    deepStrictEqual(await spoolFiles(w.dir), []);
    match(fctx.infos.join("\n"), /Sentinel run .*: 5 samples sent, run finished/);
  });
});

Deno.test("sentinel: --quiet with a token streams only to Sentinel; secrets stay out of output", async () => {
  await inWorld(async (w) => {
    const ctx = w.ctx(["--upload-interval", "0.1"]);
    ok(ctx.settings.quiet);
    const set = await createSinks(ctx, HOOKS);
    set.write(makeSample(0));
    w.s3.faults.queue.push({ status: 503 });
    await set.close({ exitCode: 0 });
    const out = JSON.stringify(ctx.warnings);
    ok(!out.includes(w.api.o.token));
    for (const k of w.api.issued) ok(!out.includes(k));
    for (const f of await spoolFiles(w.dir)) {
      const text = new TextDecoder().decode(
        await Deno.readFile(`${w.dir}/${f}`).catch(() => new Uint8Array()),
      );
      ok(!text.includes(w.api.o.token));
    }
    strictEqual(
      new TextDecoder().decode(gunzipSync([...w.s3.objects.values()][0]!)).split("\n").length,
      3,
    );
  });
});
