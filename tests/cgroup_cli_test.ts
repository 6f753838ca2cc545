/**
 * The cgroup options through the real CLI: bad values and combinations are one line and exit 2;
 * `--cgroup` without permission says so once and tracks the tree; `--wait-descendants` follows
 * what the command left behind. None of these needs a writable cgroup hierarchy except the
 * permission test, which makes the hierarchy read-only in a private mount namespace.
 */
import { match, ok, strictEqual } from "node:assert/strict";
import { sleep } from "../base/time.ts";
import { cleanEnv, CLI_ARGV, runCli, spawnCli } from "./helpers.ts";

Deno.test("cgroup options: usage errors are one line, exit 2", async () => {
  const cases: [string[], RegExp][] = [
    [["--memory-max", "64M", "--", "true"], /^error: --memory-max needs --cgroup\n$/],
    [["--cpu-max", "0.5", "--", "true"], /^error: --cpu-max needs --cgroup\n$/],
    [["--cgroup", "--memory-max", "12x", "--", "true"], /^error: .*--memory-max.*12x.*\n$/],
    [["--cgroup", "--memory-max", "1K", "--", "true"], /^error: .*--memory-max.*at least 1M.*\n$/],
    [["--cgroup", "--cpu-max", "0", "--", "true"], /^error: .*--cpu-max.*0\.01.*\n$/],
    [["--cgroup", "--samples", "1"], /^error: --cgroup needs a command to run\n$/],
    [["--wait-descendants", "--samples", "1"], /^error: --wait-descendants needs a command.*\n$/],
  ];
  for (const [args, want] of cases) {
    const r = await runCli(["--no-gpu", ...args]);
    strictEqual(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    match(r.stderr, want);
  }
});

Deno.test("--cgroup without permission: one warning, the run goes on in tree mode", async () => {
  const probe = await new Deno.Command("unshare", { args: ["-m", "true"] }).output()
    .catch(() => undefined);
  if (Deno.uid() !== 0 || !probe?.success) {
    console.log("skipped: needs root and unshare -m to make the cgroup hierarchy read-only");
    return;
  }
  // Every cgroup mount read-only, in a mount namespace of this test only.
  const script = `for m in $(awk '$9 ~ /^cgroup/ {print $5}' /proc/self/mountinfo); do
      mount -o remount,bind,ro "$m" 2>/dev/null; done
    exec "$@"`;
  const out = await new Deno.Command("unshare", {
    args: [
      "-m",
      "--propagation",
      "private",
      "sh",
      "-c",
      script,
      "sh",
      ...CLI_ARGV,
      "--no-gpu",
      "--cgroup",
      "-q",
      "--",
      "sh",
      "-c",
      "exit 3",
    ],
    env: cleanEnv(),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  strictEqual(out.code, 3, stderr);
  const warnings = stderr.split("\n").filter((l) => l.includes("--cgroup"));
  strictEqual(warnings.length, 1, stderr);
  match(warnings[0]!, /cannot create a cgroup under .*; tracking the process tree instead$/);
  ok(stderr.includes("exited with 3"), stderr);
  ok(!stderr.includes("job cgroup"), stderr);
});

/** The command exits at once; the child it leaves behind burns ~0.4 CPU-s after 0.3 s. */
const LEAVES_A_DAEMON = [
  "sh",
  "-c",
  "(sleep 0.3; i=0; while [ $i -lt 400000 ]; do i=$((i+1)); done) & exit 0",
];

Deno.test("--wait-descendants tracks (and reaps) what the command left behind", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const run = async (extra: string[]) => {
      const r = await runCli([
        "--no-gpu",
        "-i",
        "0.2",
        "-q",
        "--summary-json",
        `${dir}/s.json`,
        ...extra,
        "--",
        ...LEAVES_A_DAEMON,
      ]);
      strictEqual(r.code, 0, r.stderr);
      return JSON.parse(Deno.readTextFileSync(`${dir}/s.json`)) as {
        cpu: { total_secs: number };
        duration_secs: number;
      };
    };
    const waited = await run(["--wait-descendants"]);
    const plain = await run([]);
    console.log(
      `--wait-descendants: ${waited.cpu.total_secs.toFixed(2)} CPU-s in ${
        waited.duration_secs.toFixed(1)
      } s; without: ${plain.cpu.total_secs.toFixed(2)} CPU-s in ${
        plain.duration_secs.toFixed(1)
      } s`,
    );
    ok(waited.cpu.total_secs > 0.2, `waited ${waited.cpu.total_secs}`);
    ok(plain.cpu.total_secs < 0.1, `plain ${plain.cpu.total_secs}`);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("--wait-descendants: SIGTERM while waiting goes to what was left behind", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const { child, output } = spawnCli([
      "--no-gpu",
      "-i",
      "0.2",
      "-q",
      "--wait-descendants",
      "--",
      "sh",
      "-c",
      `(sleep 600) & echo $! > ${dir}/pid; exit 0`,
    ]);
    // Wait until the command has exited and left its sleep behind (no wall-clock guess).
    let daemon = 0;
    for (let i = 0; i < 200 && !daemon; i++) {
      await sleep(50);
      try {
        daemon = Number(Deno.readTextFileSync(`${dir}/pid`).trim()) || 0;
      } catch { /* not written yet */ }
    }
    ok(daemon > 0, "the command wrote its daemon's PID");
    await sleep(500);
    child.kill("SIGTERM");
    // Without forwarding, the tracker would wait out the 600 s sleep: 60 s is a generous bound.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const r = await Promise.race([
      output,
      new Promise<never>((_, no) => {
        timer = setTimeout(() => no(new Error("still waiting 60 s after SIGTERM")), 60_000);
      }),
    ]).finally(() => clearTimeout(timer));
    strictEqual(r.code, 0, r.stderr);
    let alive = true;
    try {
      Deno.kill(daemon, "SIGCONT");
    } catch {
      alive = false;
    }
    ok(!alive, "the daemon got the SIGTERM");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
