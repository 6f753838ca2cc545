/**
 * The S3 sink against real S3 implementations, through the real CLI, read back with the AWS
 * CLI: s3rver (npm) and moto_server (checks every SigV4 signature with botocore and enforces
 * IAM policies). Objects must be complete (gzip CSV, header + rows), contiguous and in order,
 * and match the samples the run also wrote to a local file. A missing tool skips loudly.
 */
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { CSV_HEADER } from "../formats/csv.ts";
import { FakeS3 } from "./fakes/s3.ts";
import { FakeSentinel } from "./fakes/sentinel.ts";
import { streamingArgs } from "./fakes/spool_run.ts";
import { runCli, withTempDir } from "./helpers.ts";
import { aws, hasAwsCli, type RealS3, startMoto, startS3rver } from "./real_s3/servers.ts";

function skip(why: string): void {
  console.log(`\n!!! SKIPPED: ${why} !!!\n`);
}

/** The data rows of a CSV text that starts with the header. */
function csvRows(text: string): string[] {
  return text.slice(CSV_HEADER.length).split("\n").filter((l) => l !== "");
}

/** Runs the tracker with an S3 sink and a local CSV copy; returns the local data rows. */
async function trackTo(
  s3: RealS3,
  uri: string,
  creds: { key: string; secret: string },
  dir: string,
  extra: string[] = [],
) {
  const local = `${dir}/local-${crypto.randomUUID().slice(0, 6)}.csv`;
  const r = await runCli([
    "-o",
    "/dev/null",
    ...streamingArgs(`${dir}/spool`),
    "--flush-timeout",
    "3",
    "--no-summary",
    "--job-name",
    "real-s3",
    "--sink",
    uri,
    "--sink",
    local,
    ...extra,
    "--",
    "sleep",
    "1.5",
  ], {
    env: {
      AWS_ACCESS_KEY_ID: creds.key,
      AWS_SECRET_ACCESS_KEY: creds.secret,
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL_S3: s3.url,
    },
  });
  const text = await Deno.readTextFile(local);
  ok(text.startsWith(CSV_HEADER), "local CSV has the header");
  return { ...r, rows: csvRows(text) };
}

/**
 * Downloads the whole bucket with one `aws s3 cp --recursive` and keeps the objects under
 * `prefix`; key (without the prefix) → bytes. The whole bucket, because a listing with a
 * prefix or delimiter holding "/" trips moto's own signature check (its bug, not ours).
 */
async function readBack(
  s3: RealS3,
  creds: { key: string; secret: string },
  bucket: string,
  prefix: string,
  dir: string,
): Promise<Map<string, Uint8Array>> {
  const to = await Deno.makeTempDir({ dir });
  await aws(s3.url, creds, ["s3", "cp", "--recursive", "--only-show-errors", `s3://${bucket}`, to]);
  const out = new Map<string, Uint8Array>();
  const walk = async (d: string, rel: string) => {
    for await (const e of Deno.readDir(d)) {
      if (e.isDirectory) await walk(`${d}/${e.name}`, `${rel}${e.name}/`);
      else if (`${rel}${e.name}`.startsWith(`${prefix}/`)) {
        out.set(`${rel}${e.name}`.slice(prefix.length + 1), await Deno.readFile(`${d}/${e.name}`));
      }
    }
  };
  await walk(to, "");
  return out;
}

/** Checks one run's objects: run.json + 000001..N.csv.gz, each a complete gzip CSV; rows. */
function checkRun(objects: Map<string, Uint8Array>, runDir: string): string[] {
  const names = [...objects.keys()].filter((k) => k.startsWith(runDir)).map((k) =>
    k.slice(runDir.length)
  ).sort();
  ok(names.includes("run.json"), names.join(" "));
  const manifest = JSON.parse(new TextDecoder().decode(objects.get(`${runDir}run.json`)));
  strictEqual(manifest.metadata.job_name, "real-s3");
  const batches = names.filter((n) => n.endsWith(".csv.gz"));
  deepStrictEqual(
    batches,
    batches.map((_, i) => `${String(i + 1).padStart(6, "0")}.csv.gz`),
    "contiguous from 000001",
  );
  const rows: string[] = [];
  for (const b of batches) {
    const text = new TextDecoder().decode(gunzipSync(objects.get(`${runDir}${b}`)!));
    ok(text.startsWith(CSV_HEADER), `${b} starts with the header`);
    ok(text.endsWith("\n"), `${b} is complete`);
    rows.push(...csvRows(text));
  }
  return rows;
}

/**
 * Runs `f` against a started server with a temporary folder, both gone afterwards; where the
 * server could not start (`server` says why), the test is skipped.
 */
async function withServer<T extends RealS3>(
  server: T | string,
  f: (s3: T, dir: string) => Promise<void>,
): Promise<void> {
  if (typeof server === "string") return skip(server);
  try {
    await withTempDir("rt-real-s3-", (dir) => f(server, dir));
  } finally {
    await server.close();
  }
}

function runDirs(objects: Map<string, Uint8Array>): string[] {
  return [...new Set([...objects.keys()].map((k) => k.replace(/[^/]+$/, "")))].sort();
}

Deno.test("s3rver: every sample arrives once, in order, in complete contiguous objects (read back with the AWS CLI)", async () => {
  if (!await hasAwsCli()) return skip("the aws CLI is not installed (.ci/install_test_tools.sh)");
  await withServer(await startS3rver(["rt-bucket"]), async (s3, dir) => {
    // s3rver accepts any signature from its known key S3RVER (it does not verify SigV4).
    const creds = { key: "S3RVER", secret: "S3RVER" };
    const [run, missing] = await Promise.all([
      trackTo(s3, "s3://rt-bucket/runs", creds, dir),
      trackTo(s3, "s3://no-such-bucket/x", creds, dir),
    ]);
    strictEqual(run.code, 0, run.stderr);
    strictEqual(run.stderr, "", "no warning");
    const objects = await readBack(s3, creds, "rt-bucket", "runs", dir);
    const [runDir, ...more] = runDirs(objects);
    strictEqual(more.length, 0);
    deepStrictEqual(checkRun(objects, runDir!), run.rows);
    ok(run.rows.length >= 5, `${run.rows.length} rows`);

    match(missing.stderr, /HTTP 404 NoSuchBucket: The specified bucket does not exist/);
  });
});

Deno.test("moto: signatures pass moto's own SigV4 check; bad keys, denied users and missing buckets are named; flush delivers later", async () => {
  const bucket = "rt-moto";
  await withServer(await startMoto(bucket), async (s3, dir) => {
    // Four independent runs side by side (the machine is slow; they do not share anything).
    const [ok1, bad, denied, missing] = await Promise.all([
      trackTo(s3, `s3://${bucket}/runs`, s3.writer, dir),
      trackTo(s3, `s3://${bucket}/runs`, { ...s3.writer, secret: "wrong-secret-0" }, dir),
      trackTo(s3, `s3://${bucket}/runs`, s3.reader, dir),
      trackTo(s3, "s3://no-such-bucket-here/x", s3.writer, dir),
    ]);
    strictEqual(ok1.code, 0, ok1.stderr);
    strictEqual(ok1.stderr, "", "no warning: moto accepted every signature");
    let objects = await readBack(s3, s3.writer, bucket, "runs", dir);
    const [first, ...others] = runDirs(objects);
    strictEqual(others.length, 0, "only the run with the right key is there");
    deepStrictEqual(checkRun(objects, first!), ok1.rows);

    // A wrong secret: moto recomputes the signature and refuses; the run waits in the spool.
    strictEqual(bad.code, 0);
    match(bad.stderr, /HTTP 403 SignatureDoesNotMatch: The request signature we calculated/);
    ok(!bad.stderr.includes("wrong-secret-0"));
    match(bad.stderr, /kept in ".*spool\//);

    match(denied.stderr, /HTTP 403 AccessDenied/);
    match(missing.stderr, /HTTP 404 NoSuchBucket/);

    // The refused runs are in the spool; `flush --list` says why; drop the one no key will
    // fix, and `flush` with the right key delivers the other, complete and in order.
    const common = ["--spool-dir", `${dir}/spool`];
    const env = {
      AWS_ACCESS_KEY_ID: s3.writer.key,
      AWS_SECRET_ACCESS_KEY: s3.writer.secret,
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL_S3: s3.url,
    };
    const list = await runCli(["flush", "--list", ...common], { env });
    match(list.stdout, /\[rejected\] run manifest: HTTP 403 SignatureDoesNotMatch/);
    match(list.stdout, /\[rejected\] run manifest: HTTP 404 NoSuchBucket/);
    const missingJob = list.stdout.split("\n").find((l) => l.includes("no-such-bucket-here"))!
      .split("/")[0]!;
    strictEqual((await runCli(["flush", "--drop", missingJob, ...common], { env })).code, 0);
    const flush = await runCli(["flush", ...common], { env });
    strictEqual(flush.code, 0, flush.stderr);
    objects = await readBack(s3, s3.writer, bucket, "runs", dir);
    const dirs = runDirs(objects);
    strictEqual(dirs.length, 3, dirs.join(" "));
    const byRows = dirs.map((d) => checkRun(objects, d).join("\n"));
    ok(byRows.includes(bad.rows.join("\n")), "the refused run arrived after flush");
    ok(byRows.includes(denied.rows.join("\n")), "the denied run arrived after flush");
  });
});

Deno.test("moto + fake Sentinel API: uploads signed with STS session credentials pass moto's SigV4 check; the run finishes via s3", async () => {
  const bucket = "rt-sentinel";
  await withServer(await startMoto(bucket), async (s3, dir) => {
    const unused = new FakeS3();
    const api = new FakeSentinel(unused, {
      bucket,
      region: "us-east-1",
      issue: () => s3.assumeRole(),
    });
    try {
      const local = `${dir}/local.csv`;
      const r = await runCli([
        "--quiet",
        ...streamingArgs(`${dir}/spool`),
        "--no-summary",
        "--sink",
        local,
        "--",
        "sh",
        "-c",
        "sleep 1.5; exit 4",
      ], {
        env: api.env(s3.url),
      });
      strictEqual(r.code, 4, r.stderr);
      strictEqual(r.stderr, "", "no warning: every upload was accepted");
      const fin = api.calls.find((c) => c.path.endsWith("/finish"))!.body!;
      deepStrictEqual([fin.exit_code, fin.data_source], [4, "s3"]);
      const uris = fin.data_uris as string[];
      ok(uris.length >= 2, `uris: ${uris}`);
      const objects = await readBack(s3, s3.writer, bucket, "uploads", dir);
      const rows: string[] = [];
      for (const [i, uri] of uris.entries()) {
        ok(uri.endsWith(`/${String(i + 1).padStart(6, "0")}.csv.gz`), uri);
        const key = uri.replace(`s3://${bucket}/uploads/`, "");
        const text = new TextDecoder().decode(gunzipSync(objects.get(key)!));
        ok(text.startsWith(CSV_HEADER));
        rows.push(...csvRows(text));
      }
      const want = csvRows(await Deno.readTextFile(local));
      deepStrictEqual(rows, want);
    } finally {
      await api.close();
      await unused.close();
    }
  });
});
