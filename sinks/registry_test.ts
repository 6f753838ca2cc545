import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import {
  ENV_KINDS,
  parseSinkUri,
  secretRedactor,
  type SinkContext,
  SINKS,
  SPOOLED,
  spoolKind,
  URI_KINDS,
} from "./registry.ts";
import type { SinkSettings } from "./settings.ts";

const SETTINGS: SinkSettings = {
  uris: [],
  output: null,
  format: "json",
  quiet: true,
  intervalSecs: 1,
  maxSizeBytes: null,
  maxFiles: 5,
  uploadIntervalSecs: 60,
  spoolDir: "",
  flushTimeoutSecs: 10,
  httpTokenEnv: "MY_TOKEN",
  live: false,
  listen: null,
};

const ctx = (env: Record<string, string> = {}): SinkContext => ({
  settings: SETTINGS,
  env: (n) => env[n],
  warn: () => {},
  run: {
    metadata: {},
    tags: {},
    command: null,
    host: () => Promise.resolve({}),
    cloud: () => Promise.resolve({}),
  },
});

Deno.test("registry: every kind that spools can be resumed by flush and declares its secrets", () => {
  const spooling = SINKS.filter((k) => k.spool);
  deepStrictEqual(spooling.map((k) => k.name).sort(), [
    "http",
    "otlp",
    "prometheus+remote-write",
    "s3",
    "sentinel",
  ]);
  for (const k of SINKS) {
    strictEqual(typeof k.resume === "function", k.spool !== undefined, `${k.name}: resume`);
    if (k.spool) {
      ok(k.secretEnv(SETTINGS).length > 0, `${k.name} declares no secret`);
      ok(k.spool.exts.length > 0, `${k.name} declares no batch extension`);
      strictEqual(spoolKind(k.spool.job), k);
    }
  }
  // The spool accepts exactly the registry's jobs (sinks/spool.ts keeps no list).
  deepStrictEqual([...SPOOLED.keys()].sort(), ["http", "otlp", "remote-write", "s3", "sentinel"]);
  deepStrictEqual(
    [...new Set([...SPOOLED.values()].flat())].sort(),
    ["csv.gz", "frames.jsonl.gz", "jsonl.gz"],
  );
  strictEqual(spoolKind("ftp"), undefined);
});

Deno.test("registry: Sentinel is switched on by the environment, never named by a URI", () => {
  deepStrictEqual(ENV_KINDS.map((k) => k.name), ["sentinel"]);
  ok(!URI_KINDS.some((k) => k.name === "sentinel"));
  throws(
    () => parseSinkUri("sentinel://x", ctx()),
    /unsupported scheme \(use stdout, stderr, s3, http, prometheus\+remote-write, otlp, file\)/,
  );
});

Deno.test("registry: the secrets each kind declares are redacted, the HTTP one by its setting", () => {
  const env: Record<string, string> = {
    AWS_SECRET_ACCESS_KEY: "aws-secret-value",
    AWS_SESSION_TOKEN: "aws-session-value",
    SENTINEL_API_KEY: "sentinel-key-value",
    MY_TOKEN: "http-token-value",
    TRACKER_HTTP_TOKEN: "not-the-configured-one",
  };
  const r = secretRedactor(SETTINGS, (n) => env[n]);
  strictEqual(
    r.apply(Object.values(env).join(" ")),
    "*** *** *** *** not-the-configured-one",
  );
});

Deno.test("registry: URIs are checked once, before anything opens", () => {
  const reason = (uri: string, env: Record<string, string> = {}) => {
    try {
      parseSinkUri(uri, ctx(env));
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  };
  strictEqual(
    reason("s3://b/p"),
    '--sink s3://b/p: bucket name "b" is 1 characters long; bucket names have 3 to 63',
  );
  strictEqual(
    reason("s3://my-bucket/p"),
    "--sink s3://my-bucket/p: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set",
  );
  strictEqual(
    reason("s3://my-bucket/p", { AWS_ACCESS_KEY_ID: "a", AWS_SECRET_ACCESS_KEY: "b" }),
    null,
  );
  strictEqual(
    reason("https://u:p@example.com/in", { MY_TOKEN: "t0ken" }),
    "--sink https://example.com/in: the URL has user info and MY_TOKEN is set: use one of them",
  );
  strictEqual(parseSinkUri("x.csv", ctx()).format, "csv");
  strictEqual(parseSinkUri("x.log", ctx()).format, "json");
  strictEqual(
    parseSinkUri(
      "s3://my-bucket/p#format=json",
      ctx({
        AWS_ACCESS_KEY_ID: "a",
        AWS_SECRET_ACCESS_KEY: "b",
      }),
    ).format,
    "json",
  );
});
