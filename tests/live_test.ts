/**
 * `--live` on a real terminal: tmux at 80×24 runs the CLI; `capture-pane` shows the view
 * redrawn in place (host and tree figures, elapsed time and samples advancing, destinations),
 * no sample lines on the terminal, and the terminal as it was once the run ends.
 */
import { equal, match, ok } from "node:assert/strict";
import { CLI_ARGV, jsonLines, runCli } from "./helpers.ts";
import { eventually, testWith } from "./fakes/watch.ts";

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

testWith(["tmux"], "--live: redrawn in place at 80x24, terminal restored on exit", async (bin) => {
  const dir = await Deno.makeTempDir({ prefix: "rt-live-" });
  const sock = `rt-live-${Deno.pid}`;
  const tmux = async (...args: string[]) => {
    const out = await new Deno.Command(bin.tmux!, {
      args: ["-L", sock, ...args],
      stdout: "piped",
      stderr: "piped",
      env: { TERM: "xterm-256color" },
    }).output();
    return new TextDecoder().decode(out.stdout);
  };
  const cli = [
    ...CLI_ARGV,
    "--live",
    "--interval",
    "0.5",
    "--no-summary",
    "--job-name",
    "live-job",
    "--output",
    `${dir}/out.jsonl`,
    "--",
    "sh",
    "-c",
    "sleep 4",
  ].map(quote).join(" ");
  const script = `${dir}/run.sh`;
  await Deno.writeTextFile(
    script,
    `clear; printf 'before-the-run\\n'; env -u RUST_BACKTRACE TRACKER_NO_CLOUD=1 NO_COLOR=1 ${cli}; printf 'exit=%s\\n' "$?"; sleep 60\n`,
  );
  try {
    await tmux("new-session", "-d", "-x", "80", "-y", "24", "-s", "live", `sh ${quote(script)}`);
    const capture = () => tmux("capture-pane", "-p", "-t", "live");
    const first = await eventually(
      "the live view",
      async () => {
        const t = await capture();
        return /Host {2}CPU/.test(t) && /samples [1-9]/.test(t) ? t : null;
      },
      60_000,
      100,
    );
    const lines = first.split("\n");
    ok(lines.length <= 25, `${lines.length} lines`);
    for (const l of lines) ok(l.length <= 80, `wider than 80: ${l}`);
    match(first, /^resource-tracker \S+ {2}job live-job {2}elapsed 00:00:0\d/m);
    match(first, /Mem {2}.* used \(\d+%\)/);
    match(first, /Disk read .*\/s, write .*\/s/);
    match(first, /Tree {2}PID \d+, \d+ descendants/);
    match(first, /GPU {3}none found|GPU 0 /);
    match(first, new RegExp(`Out   ${dir}/out\\.jsonl`));
    ok(!first.includes("before-the-run"), "the view is on the alternate screen");
    ok(!first.includes('{"timestamp'), "no sample lines on the terminal");
    const n1 = Number(/samples (\d+)/.exec(first)![1]);
    // Redrawn in place: the same layout, more samples.
    const second = await eventually(
      "a redraw",
      async () => {
        const t = await capture();
        const m = /samples (\d+)/.exec(t);
        return m && Number(m[1]) > n1 ? t : null;
      },
      30_000,
      100,
    );
    equal(second.split("\n").filter((l) => l.startsWith("resource-tracker ")).length, 1);
    // After the run: the shell's screen is back, cursor visible, alternate screen off.
    const after = await eventually(
      "the run to end",
      async () => {
        const t = await capture();
        return /exit=0/.test(t) ? t : null;
      },
      60_000,
      200,
    );
    match(after, /before-the-run\nexit=0/);
    ok(!/Host {2}CPU/.test(after));
    equal(
      (await tmux("display", "-p", "-t", "live", "#{alternate_on}:#{cursor_flag}")).trim(),
      "0:1",
    );
    const samples = jsonLines(await Deno.readTextFile(`${dir}/out.jsonl`));
    ok(samples.length >= 6, `${samples.length} samples in --output`);
  } finally {
    await tmux("kill-server");
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--live without a terminal: one warning, and still no samples on the streams", async () => {
  const r = await runCli(["--live", "--interval", "0.2", "--samples", "2"]);
  equal(r.code, 0, r.stderr);
  equal(r.stdout, "");
  equal(r.stderr, "warn: --live: no terminal to draw on; live view off\n");
});
