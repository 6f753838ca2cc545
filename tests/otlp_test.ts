/**
 * `--sink otlp+http://…` through the real CLI into a loopback collector that decodes with the
 * official OpenTelemetry protobuf definitions: semantic-convention names and units, cumulative
 * sums, resource attributes from the run, one point per sample, protobuf and JSON.
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { runCli, runToSink } from "./helpers.ts";
import { OtlpCollector } from "./fakes/otlp_collector.ts";

const RUN = [
  "--interval",
  "0.5",
  "--upload-interval",
  "1",
  "--no-summary",
  "--job-name",
  "otlp-job",
  "--env",
  "prod",
  "--tag",
  "team=ml",
];

const run = (sink: string, env: Record<string, string> = {}) => runToSink(RUN, sink, "1.6", env);

Deno.test("otlp: protobuf to <base>/v1/metrics, semantic conventions, one point per sample", async () => {
  const col = new OtlpCollector();
  try {
    const { stderr, local } = await run(col.base.replace("http://", "otlp+http://"), {
      OTEL_EXPORTER_OTLP_HEADERS: "x-scope-orgid=tenant-7,authorization=Bearer%20otlp-secret-1",
    });
    equal(stderr, "");
    ok(col.exports.length >= 1);
    for (const e of col.exports) equal(e.contentType, "application/x-protobuf");
    // Headers from the OTel variable reach the collector, and nowhere else.
    equal(col.headers[0]!.get("x-scope-orgid"), "tenant-7");
    equal(col.headers[0]!.get("authorization"), "Bearer otlp-secret-1");

    const e = col.exports[0]!;
    equal(e.scope.name, "resource-tracker");
    equal(e.resource["service.name"], "resource-tracker");
    equal(e.resource["deployment.environment.name"], "prod");
    equal(e.resource["resource_tracker.job_name"], "otlp-job");
    equal(e.resource["resource_tracker.tag.team"], "ml");
    equal(e.resource["os.type"], "linux");
    equal(e.resource["process.command_line"], "sh -c sleep 1.6");
    ok(typeof e.resource["host.name"] === "string");

    // Every sample is one point of resource_tracker.samples, at the sample's time.
    const times = col.points("resource_tracker.samples").map((p) => p.timeUnixNano);
    deepStrictEqual(times, local.map((s) => String(BigInt(s.timestamp_ms as number) * 1000000n)));

    const byName = new Map(col.exports.flatMap((x) => x.metrics).map((m) => [m.name, m]));
    const cpu = byName.get("system.cpu.time")!;
    equal(cpu.kind, "sum");
    equal(cpu.unit, "s");
    equal(cpu.isMonotonic, true);
    equal(cpu.aggregationTemporality, 2); // cumulative
    deepStrictEqual(cpu.dataPoints.slice(0, 2).map((p) => p.attributes["cpu.mode"]), [
      "user",
      "system",
    ]);
    ok(BigInt(cpu.dataPoints[0]!.startTimeUnixNano!) <= BigInt(cpu.dataPoints[0]!.timeUnixNano));
    const mem = byName.get("system.memory.usage")!;
    equal(mem.unit, "By");
    equal(mem.isMonotonic, false);
    equal(
      col.points("system.memory.usage").find((p) => p.attributes["system.memory.state"] === "used")!
        .asDouble,
      (local[0]!.memory as { used_mib: number }).used_mib * 1048576,
    );
    equal(byName.get("system.cpu.utilization")!.kind, "gauge");
    equal(byName.get("system.cpu.utilization")!.unit, "1");
    ok(byName.has("system.network.io") && byName.has("system.disk.io"));
    // The tree: its CPU time is the running sum of the samples' per-interval seconds.
    const pcpu = col.points("process.cpu.time").filter((p) => p.attributes["cpu.mode"] === "user");
    let sum = 0;
    pcpu.forEach((p, i) => {
      sum += (local[i]!.cpu as { process_utime_secs: number }).process_utime_secs;
      ok(Math.abs(p.asDouble - sum) < 1e-9, `${p.asDouble} vs ${sum}`);
    });
    equal(byName.get("process.memory.usage")!.unit, "By");
  } finally {
    await col.close();
  }
});

Deno.test("otlp: JSON on request (#protocol=http/json or OTEL_EXPORTER_OTLP_PROTOCOL)", async () => {
  for (
    const [sinkSuffix, env] of [
      ["#protocol=http/json", {}],
      ["", { OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }],
    ] as const
  ) {
    const col = new OtlpCollector();
    try {
      const { local } = await run(
        col.base.replace("http://", "otlp+http://") + sinkSuffix,
        env,
      );
      ok(col.exports.length >= 1);
      for (const e of col.exports) equal(e.contentType, "application/json");
      equal(col.points("resource_tracker.samples").length, local.length);
    } finally {
      await col.close();
    }
  }
});

Deno.test("otlp: a bad URI is a usage error naming it", async () => {
  const r = await runCli(["--samples", "1", "--sink", "otlp+http://", "-q"]);
  equal(r.code, 2);
  ok(/--sink otlp\+http:\/\/: /.test(r.stderr), r.stderr);
  const rw = await runCli(["--samples", "1", "--sink", "prometheus+remote-write://h:9090", "-q"]);
  equal(rw.code, 2);
  ok(/expected the write path/.test(rw.stderr), rw.stderr);
});
