/**
 * `--sink prometheus+remote-write://…` through the real CLI into a real Prometheus started with
 * its remote-write receiver: every sample the run took is queryable, with the run's labels;
 * samples taken while Prometheus was down stay in the spool and `flush` delivers them.
 */
import { equal, match, ok } from "node:assert/strict";
import { runCli, runToSink } from "./helpers.ts";
import { closedPort } from "./fakes/loopback.ts";
import { startPrometheus, testWith } from "./fakes/watch.ts";

const RUN = ["--interval", "0.5", "--upload-interval", "1", "--no-summary", "--job-name", "rw-job"];

async function tmp(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "rt-rw-" });
}

testWith(
  ["prometheus"],
  "remote write: a real Prometheus receives every sample with the run's labels",
  async (bin) => {
    const prom = await startPrometheus(bin.prometheus!, { remoteWrite: true });
    try {
      const sink = `prometheus+remote-write://${new URL(prom.url).host}/api/v1/write`;
      const { stderr, local } = await runToSink([...RUN, "--tag", "team=ml"], sink, "2.2");
      equal(stderr, "");
      ok(local.length >= 4, `${local.length} samples`);
      // One point of resource_tracker_samples_total per sample: exactly the samples taken.
      const n = await prom.query(
        'count_over_time(resource_tracker_samples_total{job_name="rw-job"}[1h])',
      );
      equal(n.length, 1, JSON.stringify(n));
      equal(Number(n[0]!.value[1]), local.length);
      equal(n[0]!.metric.job, "resource-tracker");
      equal(n[0]!.metric.tag_team, "ml");
      const cpu = await prom.query(
        'resource_tracker_process_cpu_time_seconds_total{job_name="rw-job"}',
      );
      equal(cpu.length, 2, "user and system");
      // The newest value is the local samples' sum.
      const user = cpu.find((s) => s.metric.cpu_mode === "user")!;
      const sum = local.reduce(
        (a, s) => a + ((s.cpu as { process_utime_secs: number }).process_utime_secs ?? 0),
        0,
      );
      ok(Math.abs(Number(user.value[1]) - sum) < 1e-9, `${user.value[1]} vs ${sum}`);
      const mem = await prom.query('resource_tracker_system_memory_limit_bytes{job_name="rw-job"}');
      equal(
        Number(mem[0]!.value[1]),
        (local.at(-1)!.memory as { total_mib: number }).total_mib * 1048576,
      );
    } finally {
      await prom.stop();
    }
  },
);

testWith(
  ["prometheus"],
  "remote write: an outage keeps the samples in the spool; flush delivers them",
  async (bin) => {
    const dir = await tmp();
    const port = closedPort();
    const sink = `prometheus+remote-write://127.0.0.1:${port}/api/v1/write`;
    const args = [...RUN, "--job-name", "rw-outage", "-q", "--spool-dir", `${dir}/spool`];
    const r = await runCli([
      ...args,
      "--sink",
      sink,
      "--flush-timeout",
      "1",
      "--",
      "sleep",
      "1.2",
    ]);
    equal(r.code, 0);
    match(
      r.stderr,
      /remote write http:\/\/127\.0\.0\.1:\d+\/api\/v1\/write: \d+ samples in \d+ batches not delivered; kept in/,
    );
    const kept = Number(/(\d+) samples in/.exec(r.stderr)![1]);
    // Prometheus comes up on that port; flush sends what was kept.
    const prom = await startPrometheus(bin.prometheus!, { remoteWrite: true, port });
    try {
      const f = await runCli(["flush", "--spool-dir", `${dir}/spool`]);
      equal(f.code, 0, f.stderr);
      match(f.stderr, new RegExp(`${kept} samples in \\d+ batches sent`));
      const n = await prom.query(
        'count_over_time(resource_tracker_samples_total{job_name="rw-outage"}[1h])',
      );
      equal(Number(n[0]!.value[1]), kept);
    } finally {
      await prom.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
