/**
 * Failures say what went wrong: S3's error code and message (AccessDenied, NoSuchBucket,
 * SignatureDoesNotMatch, a region redirect that is then followed), an HTTP endpoint's status
 * and a bounded, secret-free excerpt of its answer, and what is wrong with a bucket name.
 */
import { match, ok, rejects, strictEqual } from "node:assert/strict";
import { UsageError } from "../base/errors.ts";
import { createSinks, type SinkTestHooks } from "../sinks/mod.ts";
import { bucketProblem } from "../sinks/s3_names.ts";
import { testContext } from "./fakes/context.ts";
import { HttpReceiver } from "./fakes/http_receiver.ts";
import { makeSample, range, sampleIds } from "./fakes/samples.ts";
import { FakeS3 } from "./fakes/s3.ts";

const HOOKS: SinkTestHooks = {
  tuning: { retryBaseMs: 20, retryMaxMs: 60, requestTimeoutMs: 2_000 },
};
const KEY = "AKIAERRORS00000001";
const SECRET = "errors-secret-xyz";

async function s3Run(
  prepare: (s3: FakeS3) => void,
  uri: string,
  extra: Record<string, string> = {},
): Promise<{ warnings: string[]; s3: FakeS3 }> {
  const s3 = new FakeS3();
  s3.keys.set(KEY, { secret: SECRET });
  prepare(s3);
  try {
    const ctx = testContext(["--sink", uri, "--spool-dir", "", "--flush-timeout", "2"], {
      AWS_ACCESS_KEY_ID: KEY,
      AWS_SECRET_ACCESS_KEY: SECRET,
      AWS_REGION: "eu-west-3",
      AWS_ENDPOINT_URL_S3: s3.url,
      ...extra,
    });
    const set = await createSinks(ctx, HOOKS);
    for (let i = 0; i < 3; i++) set.write(makeSample(i));
    await set.close({ exitCode: 0 });
    for (const w of ctx.warnings) ok(!w.includes(SECRET), w);
    return { warnings: ctx.warnings, s3 };
  } finally {
    await s3.close();
  }
}

Deno.test("s3 errors name the S3 code and message", async () => {
  const denied = await s3Run(
    (s3) => s3.keys.set(KEY, { secret: SECRET, denied: true }),
    "s3://bucket-a/p",
  );
  match(
    denied.warnings[0]!,
    /^s3:\/\/bucket-a\/p: (run manifest: )?HTTP 403 AccessDenied: Access Denied; not retrying/,
  );

  const missing = await s3Run((s3) => (s3.buckets = new Set(["other"])), "s3://bucket-b/p");
  match(
    missing.warnings[0]!,
    /^s3:\/\/bucket-b\/p: (run manifest: )?HTTP 404 NoSuchBucket: The specified bucket does not exist; not retrying/,
  );

  const badSig = await s3Run(() => {}, "s3://bucket-c/p", {
    AWS_SECRET_ACCESS_KEY: "wrong-secret-1",
  });
  match(badSig.warnings[0]!, /HTTP 403 SignatureDoesNotMatch: The request signature we calculated/);
  ok(!badSig.warnings.join().includes("wrong-secret-1"));
  ok(!badSig.warnings.join().includes("StringToSign"), "only Code and Message are printed");
});

Deno.test("s3: a region redirect is named and followed; every sample arrives", async () => {
  const r = await s3Run((s3) => {
    s3.checkRegion = true;
    s3.bucketRegion = "ap-southeast-2";
  }, "s3://bucket-d/p");
  match(
    r.warnings[0]!,
    /HTTP 400 AuthorizationHeaderMalformed: .* \(bucket is in ap-southeast-2, not eu-west-3; retrying there\)/,
  );
  strictEqual(r.warnings.length, 1, r.warnings.join("\n"));
  const texts = [...r.s3.texts().values()];
  strictEqual(sampleIds(texts.join("")).join(), range(3).join());
  ok(r.s3.calls.filter((c) => c.status === 200).every((c) => c.region === "ap-southeast-2"));
});

Deno.test("http sink errors name the status and a bounded excerpt without secrets", async () => {
  const rx = new HttpReceiver();
  const token = "tok-http-secret-4242";
  const orig = rx.faults;
  orig.always = { status: 422 };
  try {
    // The receiver's fault answer is "fault 422"; wrap it with a body that echoes the token.
    const ctx = testContext(["--sink", `${rx.url}/in`, "--spool-dir", "", "--flush-timeout", "1"], {
      TRACKER_HTTP_TOKEN: token,
    });
    const hooks: SinkTestHooks = {
      ...HOOKS,
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        await res.body?.cancel();
        const body = JSON.stringify({
          detail: "field cpu.utilization_pct: expected number",
          echo: `Authorization: Bearer ${token}`,
          pad: "x".repeat(5000),
        });
        return new Response(body, { status: res.status, statusText: "Unprocessable Entity" });
      },
    };
    const set = await createSinks(ctx, hooks);
    set.write(makeSample(0));
    await set.close({ exitCode: 0 });
    const line = ctx.warnings.find((w) => w.includes("HTTP 422"))!;
    match(line, /HTTP 422 Unprocessable Entity: ".*field cpu\.utilization_pct: expected number/);
    ok(!line.includes(token), line);
    ok(line.length < 400, `line is ${line.length} characters`);
  } finally {
    await rx.close();
  }
});

Deno.test("bucket names: each rule says what is wrong", async () => {
  const table: [string, string | null][] = [
    ["my-bucket.logs", null],
    ["ab", "is 2 characters long; bucket names have 3 to 63"],
    ["x".repeat(64), "is 64 characters long; bucket names have 3 to 63"],
    ["My-Bucket", "has uppercase letters; bucket names are lowercase"],
    ["my_bucket", 'has "_"; only lowercase letters, digits, "." and "-" are allowed'],
    ["-bucket", "must begin and end with a letter or digit"],
    ["bucket.", "must begin and end with a letter or digit"],
    ["my..bucket", 'has two adjacent "."'],
    ["192.168.5.4", "is formatted as an IP address"],
    ["xn--bucket", "starts with a prefix S3 reserves"],
    ["bucket-s3alias", "ends with a suffix S3 reserves"],
  ];
  for (const [name, want] of table) strictEqual(bucketProblem(name), want, name);
  await rejects(
    () =>
      createSinks(testContext(["--sink", "s3://my_bucket/x"], {
        AWS_ACCESS_KEY_ID: "a",
        AWS_SECRET_ACCESS_KEY: "b",
      })),
    (err: unknown) => {
      ok(err instanceof UsageError);
      strictEqual(
        err.message,
        '--sink s3://my_bucket/x: bucket name "my_bucket" has "_"; only lowercase letters, digits, "." and "-" are allowed',
      );
      return true;
    },
  );
});
