/** Every request names us (`User-Agent`); a bearer token over plain http:// to another host is flagged once. */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { USER_AGENT } from "../base/user_agent.ts";
import { createSinks, type SinkTestHooks } from "../sinks/mod.ts";
import { TEST_RUN, testContext } from "./fakes/context.ts";
import { makeSample } from "./fakes/samples.ts";

/** A fetch that records what would be sent and never sends it. */
function recorder() {
  const seen: { url: string; userAgent: string | null }[] = [];
  const fetchFn: typeof fetch = (input, init) => {
    const headers = new Headers(init?.headers);
    seen.push({ url: String(input), userAgent: headers.get("user-agent") });
    return Promise.resolve(new Response(null, { status: 204 }));
  };
  return { seen, fetchFn };
}

Deno.test("sinks: User-Agent on HTTP, S3 and Sentinel requests", async () => {
  const { seen, fetchFn } = recorder();
  const hooks: SinkTestHooks = { fetch: fetchFn, cloudWaitMs: 10 };
  const ctx = testContext([
    "--sink",
    "http://127.0.0.1:9/ingest",
    "--sink",
    "s3://bucket-one/prefix",
    "--spool-dir",
    "",
  ], {
    AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
    AWS_SECRET_ACCESS_KEY: "secret-example",
    AWS_REGION: "eu-west-1",
    AWS_ENDPOINT_URL_S3: "http://127.0.0.1:9",
    SENTINEL_API_TOKEN: "tok-identity-1234",
    SENTINEL_API_URL: "http://127.0.0.1:9",
  });
  const set = await createSinks(ctx, hooks);
  set.write(makeSample(0));
  await set.close({ exitCode: 0 });
  ok(seen.length >= 3, JSON.stringify(seen));
  for (const s of seen) strictEqual(s.userAgent, USER_AGENT, s.url);
});

Deno.test("sinks: a bearer token over plain http:// to a non-loopback host is warned about once, at start", async () => {
  const sent: string[] = [];
  const hooks: SinkTestHooks = {
    // Nothing leaves the machine: every request is refused here.
    fetch: (input) => {
      sent.push(String(input));
      return Promise.reject(new TypeError("not sent in tests"));
    },
    cloudWaitMs: 10,
    tuning: { retryBaseMs: 10_000 },
  };
  const ctx = testContext([
    "--sink",
    "http://192.0.2.10/ingest",
    "--spool-dir",
    "",
    "--flush-timeout",
    "1",
  ], {
    TRACKER_HTTP_TOKEN: "tok-http-5678",
    SENTINEL_API_TOKEN: "tok-sentinel-5678",
    SENTINEL_API_URL: "http://192.0.2.20/api/v1",
  });
  const set = await createSinks(ctx, hooks);
  const plain = ctx.warnings.filter((w) => w.includes("plain http://"));
  deepStrictEqual(plain, [
    "http://192.0.2.10/ingest: the API token goes to 192.0.2.10 over plain http:// (readable on the network); use https://",
    "Sentinel: the API token goes to 192.0.2.20 over plain http:// (readable on the network); use https://",
  ]);
  await set.close({ exitCode: 0 });
  ok(!ctx.warnings.some((w) => w.includes("tok-")), "token printed");

  const local = testContext([
    "--sink",
    "http://127.0.0.1:9/x",
    "--spool-dir",
    "",
    "--flush-timeout",
    "1",
  ], {
    TRACKER_HTTP_TOKEN: "tok-http-5678",
  });
  const set2 = await createSinks(local, hooks);
  await set2.close({ exitCode: 0 });
  ok(!local.warnings.some((w) => w.includes("plain http://")), local.warnings.join("\n"));
});

Deno.test("http sink: run metadata too large for a header is left out with one warning", async () => {
  const seen: (string | null)[] = [];
  const hooks: SinkTestHooks = {
    fetch: (_input, init) => {
      seen.push(new Headers(init?.headers).get("x-tracker-run-metadata"));
      return Promise.resolve(new Response(null, { status: 204 }));
    },
  };
  const run = { ...TEST_RUN, tags: { big: "x".repeat(5000) } };
  const ctx = testContext(
    ["--sink", "http://127.0.0.1:9/in", "--spool-dir", "", "--flush-timeout", "1"],
    {},
    run,
  );
  const set = await createSinks(ctx, hooks);
  set.write(makeSample(0));
  await set.close({ exitCode: 0 });
  deepStrictEqual(seen, [null]);
  strictEqual(ctx.warnings.filter((w) => w.includes("over the 4096-byte header limit")).length, 1);
});
