/** Run metadata (project, job, stage, task, team, env, tags) reaches every sink (real CLI). */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { USER_AGENT } from "../base/user_agent.ts";
import { HttpReceiver } from "./fakes/http_receiver.ts";
import { FakeS3 } from "./fakes/s3.ts";
import { streamingArgs } from "./fakes/spool_run.ts";
import { runCli } from "./helpers.ts";

Deno.test("CLI: metadata and tags go with HTTP batches (header), next to S3 batches (run.json) and into the summary JSON", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rt-meta-" });
  const rx = new HttpReceiver();
  const s3 = new FakeS3();
  s3.keys.set("AKIAMETA000000000001", { secret: "meta-secret" });
  try {
    const r = await runCli([
      "-o",
      "/dev/null",
      ...streamingArgs(`${dir}/spool`),
      "--summary-json",
      `${dir}/summary.json`,
      "--project-name",
      "atlas",
      "--job-name",
      "train-ü",
      "--stage-name",
      "fit",
      "--task-name",
      "t1",
      "--team",
      "ml",
      "--env",
      "dev",
      "--tag",
      "gpu=a100",
      "--sink",
      `${rx.url}/ingest`,
      "--sink",
      "s3://meta-bucket/runs",
      "--",
      "sleep",
      "0.8",
    ], {
      env: {
        AWS_ACCESS_KEY_ID: "AKIAMETA000000000001",
        AWS_SECRET_ACCESS_KEY: "meta-secret",
        AWS_REGION: "eu-west-3",
        AWS_ENDPOINT_URL_S3: s3.url,
      },
    });
    strictEqual(r.code, 0, r.stderr);
    const want = {
      project_name: "atlas",
      job_name: "train-ü",
      stage_name: "fit",
      task_name: "t1",
      team: "ml",
      env: "dev",
    };

    ok(rx.batches.size >= 1, "no HTTP batch");
    for (const b of rx.batches.values()) {
      deepStrictEqual(b.runMetadata, { ...want, tags: { gpu: "a100" } });
      strictEqual(b.userAgent, USER_AGENT);
    }

    const manifestKey = [...s3.objects.keys()].find((k) => k.endsWith("/run.json"))!;
    ok(manifestKey?.startsWith("meta-bucket/runs/"), [...s3.objects.keys()].join(" "));
    const manifest = JSON.parse(new TextDecoder().decode(s3.objects.get(manifestKey)));
    for (const [k, v] of Object.entries(want)) strictEqual(manifest.metadata[k], v, k);
    deepStrictEqual(manifest.tags, { gpu: "a100" });
    deepStrictEqual(manifest.command, ["sleep", "0.8"]);
    const batchDir = manifestKey.replace(/run\.json$/, "");
    ok([...s3.objects.keys()].some((k) => k.startsWith(batchDir) && k.endsWith(".csv.gz")));

    const summary = JSON.parse(await Deno.readTextFile(`${dir}/summary.json`));
    for (const [k, v] of Object.entries(want)) strictEqual(summary.metadata[k], v, k);
    deepStrictEqual(summary.tags, { gpu: "a100" });
  } finally {
    await rx.close();
    await s3.close();
    await Deno.remove(dir, { recursive: true });
  }
});
