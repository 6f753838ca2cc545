/** Sentinel streaming from the real CLI, against loopback fakes (API + signature-checking S3). */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { FakeS3 } from "./fakes/s3.ts";
import { FakeSentinel } from "./fakes/sentinel.ts";
import { streamingArgs } from "./fakes/spool_run.ts";
import { runCli } from "./helpers.ts";

Deno.test("CLI: --quiet with a token streams a wrapped run to Sentinel only, finishing with its exit code", async () => {
  const s3 = new FakeS3();
  const api = new FakeSentinel(s3, { region: "eu-central-1" });
  const spool = await Deno.makeTempDir();
  try {
    const r = await runCli([
      "--quiet",
      ...streamingArgs(spool),
      "--job-name",
      "e2e",
      "--tag",
      "team=ml",
      "--",
      "sh",
      "-c",
      "sleep 1.2; exit 3",
    ], {
      env: api.env(),
    });
    strictEqual(r.code, 3, r.stderr);
    ok(!r.stderr.includes(api.o.token!), "token leaked");
    ok(!r.stderr.includes("{"), "no sample lines locally with --quiet");
    const paths = api.calls.map((c) => c.path);
    ok(paths[0] === "/runs", `calls: ${paths.join(", ")}`);
    const reg = api.calls[0]!.body!;
    strictEqual(reg.job_name, "e2e");
    deepStrictEqual(reg.tags, { team: "ml" });
    strictEqual(reg.command, JSON.stringify(["sh", "-c", "sleep 1.2; exit 3"]));
    ok(!("pid" in reg));
    for (const k of ["host_hostname", "host_vcpus", "cloud_vendor_id"]) ok(k in reg, k);
    const finish = api.calls.find((c) => c.path.endsWith("/finish"))!;
    strictEqual(finish.body!.exit_code, 3);
    strictEqual(finish.body!.run_status, "failed");
    ok(finish.body!.data_source === "s3" || finish.body!.data_source === "inline");
    if (finish.body!.data_source === "s3") {
      const uris = finish.body!.data_uris as string[];
      ok(
        uris.length >= 1 &&
          uris.every((u, i) => u.endsWith(`/${String(i + 1).padStart(6, "0")}.csv.gz`)),
      );
      strictEqual(s3.objects.size, uris.length);
    }
  } finally {
    await api.close();
    await s3.close();
    await Deno.remove(spool, { recursive: true });
  }
});
