import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import {
  DEFAULT_API_URL,
  finishRecord,
  parseCreds,
  SentinelApiError,
  sentinelApiUrl,
  transient,
} from "./sentinel_api.ts";
import { sentinelToken } from "./sink.ts";

const envOf = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("sentinelToken: SENTINEL_API_TOKEN, else SENTINEL_API_KEY, trimmed; blank is none", () => {
  strictEqual(sentinelToken(envOf({})), null);
  strictEqual(sentinelToken(envOf({ SENTINEL_API_TOKEN: " t1\n", SENTINEL_API_KEY: "k" })), "t1");
  strictEqual(sentinelToken(envOf({ SENTINEL_API_KEY: " k " })), "k");
  strictEqual(sentinelToken(envOf({ SENTINEL_API_TOKEN: "  ", SENTINEL_API_KEY: "k" })), "k");
  strictEqual(sentinelToken(envOf({ SENTINEL_API_TOKEN: " \t" })), null);
});

Deno.test("sentinelApiUrl: the override without trailing slashes, else the public API", () => {
  strictEqual(sentinelApiUrl(envOf({})), DEFAULT_API_URL);
  strictEqual(sentinelApiUrl(envOf({ SENTINEL_API_URL: " " })), DEFAULT_API_URL);
  strictEqual(
    sentinelApiUrl(envOf({ SENTINEL_API_URL: "http://127.0.0.1:8/api//" })),
    "http://127.0.0.1:8/api",
  );
});

Deno.test("parseCreds: both expiry spellings, a missing key means no credentials", () => {
  const creds = (c: Record<string, unknown>) => parseCreds({ upload_credentials: c });
  deepStrictEqual(
    creds({
      access_key: "A",
      secret_key: "S",
      session_token: "T",
      expiration: "2026-04-01T12:00:00Z",
      region: "eu-west-1",
    }),
    {
      accessKeyId: "A",
      secretAccessKey: "S",
      sessionToken: "T",
      expiresAtMs: Date.UTC(2026, 3, 1, 12),
      region: "eu-west-1",
    },
  );
  strictEqual(creds({ access_key: "A", secret_key: "S", expires_at: "x" })!.expiresAtMs, NaN);
  strictEqual(creds({ access_key: "A", secret_key: "S" })!.expiresAtMs, null);
  strictEqual(creds({ access_key: "A" }), null);
  strictEqual(parseCreds({}), null);
});

Deno.test("finishRecord and transient", () => {
  deepStrictEqual(finishRecord(0, Date.UTC(2026, 0, 2, 3, 4, 5, 678)), {
    exit_code: 0,
    run_status: "finished",
    finished_at: "2026-01-02T03:04:05Z",
  });
  strictEqual(finishRecord(3).run_status, "failed");
  ok(transient(new Error("fetch failed")));
  ok(transient(new SentinelApiError("finish", null, "timed out")));
  ok(transient(new SentinelApiError("finish", 503, "HTTP 503")));
  ok(transient(new SentinelApiError("finish", 429, "HTTP 429")));
  ok(!transient(new SentinelApiError("finish", 401, "HTTP 401")));
});
