/** Issue 20, defect 9 (the low ones) through the real CLI. */
import { match, ok, strictEqual } from "node:assert/strict";
import { sleep } from "../base/time.ts";
import { copyFixtureProc, fixtureRun, runCli, spawnCli } from "./helpers.ts";

Deno.test("CLI: intervals and timeouts past one day are usage errors (no timer overflow)", async () => {
  for (
    const [args, env, re] of [
      [["-i", "2200000"], {}, /--interval: expected seconds <= 86400, got "2200000"/],
      [[], { TRACKER_INTERVAL: "1e308" }, /TRACKER_INTERVAL: expected seconds <= 86400/],
      [["--upload-interval", "1e308"], {}, /--upload-interval: expected seconds <= 86400/],
      [["--flush-timeout", "3000000"], {}, /--flush-timeout: expected seconds <= 86400/],
    ] as const
  ) {
    const r = await runCli([...args, "--samples", "1", "-o", "/dev/null"], { env });
    strictEqual(r.code, 2, r.stderr);
    match(r.stderr, re);
    ok(!r.stderr.includes("TimeoutOverflowWarning"));
  }
});

Deno.test("CLI: the same file named twice (`-o x.csv --sink ./x.csv`) is a usage error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rt-twice-" });
  try {
    for (const exists of [false, true]) {
      if (exists) await Deno.writeTextFile(`${dir}/x.csv`, "");
      const r = await runCli(["--samples", "1", "--output", "x.csv", "--sink", "./x.csv"], {
        cwd: dir,
      });
      strictEqual(r.code, 2, r.stderr);
      match(r.stderr, /--sink \.\/x\.csv: the same file is named twice/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CLI: credentials stay out of messages; URL user info with a bearer token is an error", async () => {
  const s3 = await runCli(["--samples", "1", "-o", "/dev/null", "--sink", "s3://bucket-x/p"], {
    env: {
      AWS_ACCESS_KEY_ID: "AKIAEXAMPLEEXAMPLE1",
      AWS_SECRET_ACCESS_KEY: "secret-example-1",
      AWS_ENDPOINT_URL_S3: "http://minio:pass-5531@[bad",
    },
  });
  strictEqual(s3.code, 1, s3.stderr);
  match(s3.stderr, /invalid S3 endpoint URL/);
  ok(!s3.stderr.includes("pass-5531"), s3.stderr);

  const both = await runCli([
    "--samples",
    "1",
    "-o",
    "/dev/null",
    "--sink",
    "http://user:pw-8812@127.0.0.1:9/in",
  ], { env: { TRACKER_HTTP_TOKEN: "tok-8812" } });
  strictEqual(both.code, 2, both.stderr);
  match(both.stderr, /the URL has user info and TRACKER_HTTP_TOKEN is set: use one of them/);
  ok(!/pw-8812|tok-8812/.test(both.stderr), both.stderr);
});

Deno.test("CLI: a hostile procfs: huge numbers print as digits in CSV, negative counters are dropped", async () => {
  const { dir } = copyFixtureProc("vm-basic", "rt-hostile-");
  try {
    const mem = await Deno.readTextFile(`${dir}/proc/meminfo`);
    await Deno.writeTextFile(
      `${dir}/proc/meminfo`,
      mem.replace(/^MemFree:.*$/m, "MemFree: 100000000000000000000000000000 kB"),
    );
    const net = await Deno.readTextFile(`${dir}/proc/net/dev`);
    await Deno.writeTextFile(
      `${dir}/proc/net/dev`,
      net + "  evil0: -5 1 0 0 0 0 0 0 -7 1 0 0 0 0 0 0\n",
    );
    const base = fixtureRun("vm-basic", `${dir}/proc`);
    const csv = await runCli([...base, "--format", "csv", "-o", "-"]);
    strictEqual(csv.code, 0, csv.stderr);
    ok(!/e\+\d/.test(csv.stdout), csv.stdout);
    const header = csv.stdout.split("\n")[0]!.split(",");
    const row = csv.stdout.split("\n")[1]!.split(",");
    match(row[header.indexOf("system_memory_free_mib")]!, /^\d{20,}$/);
    const json = await runCli([...base, "--format", "json", "-o", "-"]);
    strictEqual(json.code, 0, json.stderr);
    ok(!json.stdout.includes('"evil0"'), "the interface with negative counters is dropped");
    // (speed_mbps -1 is what sysfs says of a link of unknown speed, passed on as is.)
    ok(!/"(?!speed_mbps)[a-z_]+":-\d/.test(json.stdout), "no negative counter in the output");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CLI: the summary shows the command's control characters escaped, not raw", async () => {
  const r = await runCli(["-i", "0.1", "-o", "/dev/null", "--", "true", "a\nb\x1b[2Jc"]);
  strictEqual(r.code, 0, r.stderr);
  ok(r.stderr.includes('"true a\\nb\\u001b[2Jc" exited with 0'), r.stderr);
  ok(!r.stderr.includes("\x1b"), "no raw escape");
});

Deno.test("CLI: a deleted or renamed output file is reopened (CSV header again), not lost", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rt-reopen-" });
  try {
    const out = `${dir}/out.csv`;
    const { child, output } = spawnCli(["-i", "0.1", "--format", "csv", "-o", out]);
    const lines = async (p: string) =>
      (await Deno.readTextFile(p).catch(() => "")).split("\n").filter(Boolean);
    for (let i = 0; i < 100 && (await lines(out)).length < 3; i++) {
      await sleep(100);
    }
    await Deno.rename(out, `${dir}/rotated.csv`); // logrotate without copytruncate
    for (let i = 0; i < 100 && (await lines(out)).length < 3; i++) {
      await sleep(100);
    }
    child.kill("SIGTERM");
    const r = await output;
    strictEqual(r.code, 0, r.stderr);
    match(r.stderr, /the file was removed or replaced; writing a new one/);
    const fresh = await lines(out);
    ok(fresh.length >= 3, `${fresh.length} lines in the new file`);
    ok(fresh[0]!.startsWith("timestamp"), "the new file starts with the header");
    strictEqual((await Deno.stat(out)).mode! & 0o777, 0o600);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
