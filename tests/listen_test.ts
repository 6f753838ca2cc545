/**
 * `--listen` through the real CLI: the exposition passes `promtool check metrics`, a real
 * Prometheus scrapes it every second and answers queries with the tracker's series, the API
 * answers and refuses as documented, and bad or greedy clients never stop sampling.
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { runCli } from "./helpers.ts";
import { eventually, serveCli, startPrometheus, testWith } from "./fakes/watch.ts";

const BASE = ["--interval", "0.5", "-q", "--no-summary"];
const IDENTITY = ["--job-name", "nightly-etl", "--project-name", "lake", "--tag", "team=data"];

async function get(url: string, init?: RequestInit): Promise<{ status: number; text: string }> {
  const r = await fetch(url, init);
  return { status: r.status, text: await r.text() };
}

async function samplesCount(url: string): Promise<number> {
  const r = await get(`${url}healthz`);
  return JSON.parse(r.text).samples;
}

Deno.test("--listen: /metrics, the API and their refusals; sampling goes on", async () => {
  const s = await serveCli(["--listen", "127.0.0.1:0", ...BASE, ...IDENTITY, "--", "sleep", "60"]);
  try {
    await eventually("two samples", async () => (await samplesCount(s.url)) >= 2 || null);
    const m = await fetch(`${s.url}metrics`);
    match(m.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
    const text = await m.text();
    // Host and tree series, counters named by convention, with the run's identity as labels.
    for (
      const re of [
        /^# TYPE resource_tracker_system_cpu_time_seconds_total counter$/m,
        /^resource_tracker_system_cpu_time_seconds_total\{job_name="nightly-etl",project_name="lake",tag_team="data",cpu_mode="user"\} [0-9.e-]+$/m,
        /^resource_tracker_system_memory_limit_bytes\{.*\} \d+$/m,
        /^resource_tracker_system_cpu_utilization_ratio\{.*\} [0-9.e-]+$/m,
        /^resource_tracker_process_cpu_time_seconds_total\{.*cpu_mode="system"\} [0-9.e-]+$/m,
        /^resource_tracker_process_memory_usage_bytes\{.*\} \d+$/m,
        /^resource_tracker_process_children\{.*\} 0$/m,
        /^# HELP resource_tracker_process_disk_io_bytes_total .+$/m,
        /^resource_tracker_info\{.*version="\d+\.\d+\.\d+"\} 1$/m,
      ]
    ) match(text, re);
    // No per-sample or per-process label: cardinality is bounded by the run and the hardware.
    ok(!/pid=|timestamp=/.test(text));

    const om = await fetch(`${s.url}metrics`, {
      headers: { accept: "application/openmetrics-text;version=1.0.0,text/plain;q=0.5" },
    });
    match(om.headers.get("content-type")!, /^application\/openmetrics-text; version=1\.0\.0/);
    const omText = await om.text();
    ok(omText.endsWith("# EOF\n"));
    match(omText, /^# TYPE resource_tracker_system_cpu_time_seconds counter$/m);

    const since = Date.now() - 60_000;
    const rows = JSON.parse((await get(`${s.url}api/samples?since=${since}`)).text);
    ok(Array.isArray(rows) && rows.length >= 2, JSON.stringify(rows).slice(0, 200));
    ok(rows.every((r: { timestamp_ms: number }) => r.timestamp_ms > since));
    // The cgroup figures are there exactly when the samples have them.
    const cgroup = rows.at(-1).cpu.cgroup_usage_secs !== null;
    equal(/^resource_tracker_cgroup_cpu_time_seconds_total\{/m.test(text), cgroup);
    const last = rows.at(-1).timestamp_ms;
    deepStrictEqual(JSON.parse((await get(`${s.url}api/samples?since=${last}`)).text), []);
    const sum = JSON.parse((await get(`${s.url}api/summary`)).text);
    equal(sum.run.metadata.job_name, "nightly-etl");
    ok(sum.summary.samples >= 2 && typeof sum.summary.cpu.total_secs === "number");

    // Bad requests: 4xx, and sampling is undisturbed.
    const before = await samplesCount(s.url);
    equal((await get(`${s.url}api/samples?since=yesterday`)).status, 400);
    equal((await get(`${s.url}api/samples?limit=0`)).status, 400);
    equal((await get(`${s.url}nope`)).status, 404);
    equal((await get(`${s.url}metrics`, { method: "POST", body: "x" })).status, 404);
    const raw = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(s.url).port) });
    await raw.write(new TextEncoder().encode("GARBAGE / HTTP/9.9\r\n\r\n\x00\x01\x02"));
    raw.close();
    await eventually("sampling to go on", async () => (await samplesCount(s.url)) > before || null);

    // At most 8 live (SSE) clients; the ninth is told to come back.
    const streams: Response[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await fetch(`${s.url}api/events`);
      equal(r.status, 200);
      streams.push(r);
    }
    const extra = await fetch(`${s.url}api/events`);
    equal(extra.status, 503);
    await extra.body?.cancel();
    // A live client gets samples as they are taken.
    const reader = streams[0]!.body!.pipeThrough(new TextDecoderStream()).getReader();
    let got = "";
    while (!/event: sample\ndata: \{/.test(got)) got += (await reader.read()).value ?? "";
    await reader.cancel();
    for (const r of streams.slice(1)) await r.body?.cancel();
    await eventually("slots to free up", async () => {
      const r = await fetch(`${s.url}api/events`);
      await r.body?.cancel();
      return r.status === 200 || null;
    });
  } finally {
    const end = await s.stop();
    equal(end.code, 143, end.stderr); // the wrapped command's code: SIGTERM was forwarded to it
    ok(!/error|Uncaught/.test(end.stderr), end.stderr);
  }
});

Deno.test("--listen beyond loopback needs a token; the token is then required", async () => {
  const r = await runCli(["--listen", "0.0.0.0:0", "--samples", "1", "-q"]);
  equal(r.code, 2);
  match(
    r.stderr,
    /--listen 0\.0\.0\.0:0: listening beyond loopback needs a bearer token in \$TRACKER_LISTEN_TOKEN/,
  );
  ok(!/at .*\.ts:\d+/.test(r.stderr), "no stack trace");

  const bad = await runCli(["--listen", "localhost:99999", "--samples", "1", "-q"]);
  equal(bad.code, 2);
  match(bad.stderr, /--listen/);

  const token = "s3cret-listen-token";
  const s = await serveCli(["--listen", "0.0.0.0:0", ...BASE], { TRACKER_LISTEN_TOKEN: token });
  try {
    const url = s.url.replace("0.0.0.0", "127.0.0.1");
    const no = await get(`${url}metrics`);
    equal(no.status, 401);
    equal((await get(`${url}metrics`, { headers: { authorization: "Bearer wrong" } })).status, 401);
    const yes = await get(`${url}metrics`, { headers: { authorization: `Bearer ${token}` } });
    equal(yes.status, 200);
    // A browser sends Basic with the token as password.
    const basic = await get(`${url}healthz`, {
      headers: { authorization: `Basic ${btoa(`me:${token}`)}` },
    });
    equal(basic.status, 200);
    // The dashboard page, self-contained: uPlot inlined, nothing loaded from elsewhere.
    const page = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    equal(page.status, 200);
    match(page.headers.get("content-type")!, /^text\/html/);
    match(page.headers.get("content-security-policy")!, /default-src 'none'/);
    const html = await page.text();
    ok(html.includes("var uPlot=") && !/(src|href)="(https?:)?\/\//.test(html));
  } finally {
    const end = await s.stop();
    ok(!end.stderr.includes(token), "the token never shows in output");
  }
});

testWith(["promtool"], "--listen: promtool check metrics accepts a scrape", async (bin) => {
  const s = await serveCli(["--listen", "127.0.0.1:0", ...BASE, ...IDENTITY, "--", "sleep", "30"]);
  try {
    await eventually("two samples", async () => (await samplesCount(s.url)) >= 2 || null);
    const text = (await get(`${s.url}metrics`)).text;
    const p = new Deno.Command(bin.promtool!, {
      args: ["check", "metrics"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = p.stdin.getWriter();
    await w.write(new TextEncoder().encode(text));
    await w.close();
    const out = await p.output();
    const dec = new TextDecoder();
    const report = dec.decode(out.stdout) + dec.decode(out.stderr);
    equal(out.code, 0, report);
    equal(report.trim(), "", `promtool lint findings:\n${report}`);
  } finally {
    await s.stop();
  }
});

testWith(
  ["prometheus"],
  "--listen: a real Prometheus scrapes /metrics every second and queries the series",
  async (bin) => {
    const s = await serveCli([
      "--listen",
      "127.0.0.1:0",
      ...BASE,
      ...IDENTITY,
      "--",
      "sleep",
      "120",
    ]);
    const target = new URL(s.url).host;
    const prom = await startPrometheus(bin.prometheus!, { scrape: [{ target }] });
    try {
      const series = await eventually(
        "the tracker's series in Prometheus",
        async () => {
          const r = await prom.query(
            'resource_tracker_process_cpu_time_seconds_total{cpu_mode="user"}',
          );
          return r.length > 0 ? r : null;
        },
        90_000,
        500,
      );
      equal(series[0]!.metric.job_name, "nightly-etl");
      equal(series[0]!.metric.tag_team, "data");
      equal(series[0]!.metric.instance, target);
      const mem = await prom.query("resource_tracker_system_memory_limit_bytes");
      const total = Deno.readTextFileSync("/proc/meminfo").match(/MemTotal:\s+(\d+)/)![1]!;
      // The collector truncates to whole MiB.
      equal(Number(mem[0]!.value[1]), Math.floor(Number(total) / 1024) * 1048576);
      const up = await prom.query(`up{instance="${target}"}`);
      equal(up[0]!.value[1], "1");
    } finally {
      await prom.stop();
      await s.stop();
    }
  },
);
