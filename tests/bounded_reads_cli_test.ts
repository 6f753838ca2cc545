/**
 * Issue 20, defect 8 through the real CLI: every read is bounded and no read blocks signals.
 * A 4 GiB meminfo under --procfs, --config /dev/zero or a FIFO, a huge Sentinel answer, and a
 * flood from nvidia-smi all end in "no data" or one clear line, never gigabytes of memory.
 */
import { match, ok, strictEqual } from "node:assert/strict";
import { runCommand } from "../collectors/gpu/run_command.ts";
import { closedPort, serve } from "./fakes/loopback.ts";
import { skip } from "./fakes/users.ts";
import {
  cleanEnv,
  copyFixtureProc,
  fixtureRun,
  jsonLines,
  MAIN,
  runCli,
  spawnCli,
} from "./helpers.ts";

Deno.test("CLI: a 4 GiB (sparse) meminfo under --procfs is no data, not 4 GiB of memory", async () => {
  const { dir } = copyFixtureProc("vm-basic", "rt-bigproc-");
  try {
    const big = await Deno.open(`${dir}/proc/meminfo`, { write: true, truncate: true });
    await big.truncate(4 * 1024 ** 3);
    big.close();
    const t0 = Date.now();
    const args = [
      ...fixtureRun("vm-basic", `${dir}/proc`),
      "--format",
      "json",
      "-o",
      "-",
    ];
    const r = await runCli(args);
    strictEqual(r.code, 0, r.stderr);
    const samples = jsonLines(r.stdout);
    strictEqual(samples.length, 2);
    ok(Date.now() - t0 < 30_000);
    // Peak memory of the same run, where GNU time is installed (the old code read 4 GiB).
    const time = await new Deno.Command("/usr/bin/time", {
      args: [
        "-f",
        "maxrss_kib=%M",
        Deno.execPath(),
        "run",
        "--allow-all",
        "--quiet",
        MAIN,
        ...args,
      ],
      env: cleanEnv(),
      clearEnv: true,
      stdout: "null",
      stderr: "piped",
    }).output().catch(() => null);
    const kib = Number(/maxrss_kib=(\d+)/.exec(new TextDecoder().decode(time?.stderr))?.[1]);
    if (!time?.success || !Number.isFinite(kib)) skip("no GNU time: peak memory not measured");
    else ok(kib < 512 * 1024, `peak RSS ${kib} KiB`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CLI: --config naming /dev/zero, a directory or a FIFO is a usage error at once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rt-cfg-" });
  try {
    await new Deno.Command("mkfifo", { args: [`${dir}/fifo.toml`] }).output();
    for (
      const [path, what] of [
        ["/dev/zero", "a character device"],
        [dir, "a directory"],
        [`${dir}/fifo.toml`, "a named pipe"],
      ]
    ) {
      const t0 = Date.now();
      const r = await runCli(["--config", path!, "--samples", "1", "-o", "/dev/null"]);
      strictEqual(r.code, 2, r.stderr);
      match(r.stderr, new RegExp(`cannot read config file ".*": not a regular file \\(${what}\\)`));
      ok(Date.now() - t0 < 10_000);
    }
    // TRACKER_CONFIG is read the same way.
    const env = await runCli(["--samples", "1", "-o", "/dev/null"], {
      env: { TRACKER_CONFIG: `${dir}/fifo.toml` },
    });
    strictEqual(env.code, 2, env.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CLI: a FIFO given as output neither hangs nor ignores SIGTERM", async () => {
  const dir = await Deno.makeTempDir({ prefix: "rt-fifo-" });
  try {
    await new Deno.Command("mkfifo", { args: [`${dir}/out`] }).output();
    const { output } = spawnCli(["-i", "0.2", "-o", `${dir}/out`]);
    const r = await output; // no reader: it must refuse at once, not block in open()
    strictEqual(r.code, 1, r.stderr);
    match(r.stderr, /it is a named pipe/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CLI: a 3 MiB Sentinel answer is refused (1 MiB limit); the run goes on, exit 0", async () => {
  const huge = JSON.stringify({ run_id: "x", pad: "p".repeat(3 << 20) });
  let calls = 0;
  const srv = serve(() => {
    calls++;
    return new Response(huge, { headers: { "content-type": "application/json" } });
  });
  try {
    const r = await runCli(["-i", "0.2", "--samples", "2", "-o", "/dev/null"], {
      env: { SENTINEL_API_TOKEN: "tok-bounded-1", SENTINEL_API_URL: srv.url },
    });
    strictEqual(r.code, 0, r.stderr);
    ok(calls >= 1);
    match(r.stderr, /answer over 1048576 bytes/);
    ok(!r.stderr.includes("tok-bounded-1"));
  } finally {
    await srv.close();
  }
});

Deno.test("nvidia-smi runner: 10 MB of output is cut at the limit, the child killed", async () => {
  const r = await runCommand("sh", ["-c", "yes 0123456789 | head -c 10000000; sleep 5"], 20_000);
  strictEqual(r.ok, false);
  if (!r.ok) match(r.reason, /output over 4194304 bytes/);
});

Deno.test("CLI: a stderr pipe no one reads does not hold the exit past the flush timeout", async () => {
  // Samples go to stderr (the default output); the pipe fills (64 KiB) and stays full. A down
  // HTTP sink adds warnings (retries, "kept in the spool") that must not block either.
  const spool = await Deno.makeTempDir({ prefix: "rt-stuck-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--quiet",
      MAIN,
      "-i",
      "0.1",
      "--flush-timeout",
      "1",
      "--spool-dir",
      spool,
      "--upload-interval",
      "0.5",
      "--sink",
      `http://127.0.0.1:${closedPort()}/in`,
      "--",
      "sleep",
      "8",
    ],
    env: cleanEnv(),
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const t0 = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const status = await Promise.race([
    child.status,
    new Promise<null>((r) => (timer = setTimeout(() => r(null), 30_000))),
  ]);
  clearTimeout(timer);
  const secs = (Date.now() - t0) / 1000;
  if (status === null) child.kill("SIGKILL");
  await child.stderr.cancel();
  if (status === null) await child.status;
  ok(status !== null, `still running after ${secs} s`);
  ok(secs < 25, `${secs} s: 8 s of command, 1 s flush timeout, 1 s grace, 2 s for the summary`);
  strictEqual(status.code, 0);
  ok((await Array.fromAsync(Deno.readDir(spool))).length === 1, "the HTTP batches were kept");
  await Deno.remove(spool, { recursive: true });
});
