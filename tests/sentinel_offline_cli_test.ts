/**
 * Sentinel through the real CLI when the API is not there: the whole run (registration,
 * batches, finish) waits in the spool and `resource-tracker flush` delivers it once the API is
 * back, in order, exactly once, finished with the run's exit code. Also: an API under a path.
 */
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { USER_AGENT } from "../base/user_agent.ts";
import { closedPort } from "./fakes/loopback.ts";
import { FakeS3 } from "./fakes/s3.ts";
import { FakeSentinel } from "./fakes/sentinel.ts";
import { streamingArgs } from "./fakes/spool_run.ts";
import { jsonLines, runCli } from "./helpers.ts";

const TOKEN = "sentinel-test-token-123";

/** Timestamps (ms) of the CSV rows of every object, in key order. */
function csvTimestamps(s3: FakeS3): number[] {
  return [...s3.texts().values()].flatMap((t) =>
    t.split("\n").filter((l) => l !== "" && !l.startsWith("timestamp")).map((l) =>
      Math.round(Number(l.split(",")[0]) * 1000)
    )
  );
}

Deno.test("CLI: Sentinel API down for the whole run, then `flush` with it back delivers the run once, in order, with its exit code", async () => {
  const port = closedPort();
  const dir = await Deno.makeTempDir({ prefix: "rt-offline-" });
  const spool = `${dir}/spool`;
  const local = `${dir}/local.jsonl`;
  const s3 = new FakeS3();
  let api: FakeSentinel | null = null;
  try {
    const env = {
      SENTINEL_API_TOKEN: TOKEN,
      SENTINEL_API_URL: `http://127.0.0.1:${port}`,
      AWS_ENDPOINT_URL_S3: s3.url,
    };
    const run = await runCli([
      "--quiet",
      ...streamingArgs(spool),
      "--flush-timeout",
      "2",
      "--sink",
      local,
      "--job-name",
      "offline",
      "--",
      "sh",
      "-c",
      "sleep 1.5; exit 3",
    ], { env });
    strictEqual(run.code, 3, run.stderr);
    ok(!run.stderr.includes(TOKEN), "token leaked");
    match(run.stderr, /Sentinel registration failed \(cannot reach .*connection refused\)/i);
    ok(run.stderr.includes(`kept in "${spool}/`), run.stderr);
    match(run.stderr, /send it with `resource-tracker flush` once the API is reachable/);
    const samples = jsonLines(await Deno.readTextFile(local)).map((s) => s.timestamp_ms);
    ok(samples.length >= 5, `only ${samples.length} samples`);

    api = new FakeSentinel(s3, { token: TOKEN }, port);
    const flush = await runCli(["flush", "--spool-dir", spool], { env });
    strictEqual(flush.code, 0, flush.stderr);
    deepStrictEqual(api.calls.map((c) => c.path.replace(/run-[^/]+/, "ID")), [
      "/runs",
      "/runs/ID/finish",
    ]);
    const reg = api.calls[0]!.body!;
    strictEqual(reg.job_name, "offline");
    strictEqual(reg.command, JSON.stringify(["sh", "-c", "sleep 1.5; exit 3"]));
    const fin = api.calls[1]!.body!;
    deepStrictEqual([fin.exit_code, fin.run_status, fin.data_source], [3, "failed", "s3"]);
    const uris = fin.data_uris as string[];
    ok(uris.every((u, i) => u.endsWith(`/${String(i + 1).padStart(6, "0")}.csv.gz`)), `${uris}`);
    // Every sample exactly once, in order.
    deepStrictEqual(csvTimestamps(s3), samples);
    for (const c of api.calls) strictEqual(c.userAgent, USER_AGENT);

    const again = await runCli(["flush", "--spool-dir", spool], { env });
    strictEqual(again.code, 0, again.stderr);
    strictEqual(api.calls.length, 2, "a second flush sends nothing");
  } finally {
    await api?.close();
    await s3.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CLI: SENTINEL_API_URL with a path sends every call under that path", async () => {
  const s3 = new FakeS3();
  const api = new FakeSentinel(s3, { region: "eu-central-1", prefix: "/api/v1" });
  const spool = await Deno.makeTempDir();
  try {
    const r = await runCli(
      [
        "--quiet",
        ...streamingArgs(spool),
        "--",
        "sleep",
        "1",
      ],
      {
        env: {
          SENTINEL_API_TOKEN: TOKEN,
          SENTINEL_API_URL: `${api.url}/api/v1/`,
          AWS_ENDPOINT_URL_S3: s3.url,
        },
      },
    );
    strictEqual(r.code, 0, r.stderr);
    ok(!/sentinel|warning/i.test(r.stderr), r.stderr);
    const paths = api.calls.map((c) => c.path.replace(/run-[^/]+/, "ID"));
    strictEqual(paths[0], "/api/v1/runs");
    strictEqual(paths.at(-1), "/api/v1/runs/ID/finish");
    ok(api.calls.every((c) => c.status === 200), JSON.stringify(api.calls.map((c) => c.status)));
  } finally {
    await api.close();
    await s3.close();
    await Deno.remove(spool, { recursive: true });
  }
});
