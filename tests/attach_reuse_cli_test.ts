/**
 * Issue 20, defect 7 through the real CLI: attach mode identifies the process by PID and start
 * time. In a private PID namespace the tracked PID is handed to a new process right after the
 * first one exits (ns_last_pid); the tracker must end its run, not follow the newcomer.
 */
import { match, ok, strictEqual } from "node:assert/strict";
import { V8_FLAGS_ARG } from "../scripts/v8_flags.ts";
import { skip } from "./fakes/users.ts";
import { cleanEnv, jsonLines, MAIN } from "./helpers.ts";

async function canUnshare(): Promise<string | null> {
  const out = await new Deno.Command("unshare", {
    args: ["--pid", "--fork", "--mount-proc", "sh", "-c", "echo 1 > /proc/sys/kernel/ns_last_pid"],
    stdout: "null",
    stderr: "piped",
  }).output().catch((e) => ({ success: false, stderr: new TextEncoder().encode(String(e)) }));
  return out.success ? null : `no private PID namespace: ${new TextDecoder().decode(out.stderr)}`;
}

Deno.test("CLI --pid: a reused PID is not followed; the run ends when the tracked process does", async () => {
  const why = await canUnshare();
  if (why) return skip(why);
  const dir = await Deno.makeTempDir({ prefix: "rt-reuse-" });
  try {
    const tracker = [Deno.execPath(), "run", "--allow-all", V8_FLAGS_ARG, "--quiet", MAIN]
      .map((a) => `'${a}'`).join(" ");
    const script = `
      sleep 1.5 & T=$!
      timeout 20 ${tracker} --pid $T -i 0.2 --format json -o ${dir}/out.jsonl --no-summary &
      TR=$!
      wait $T
      echo $((T - 1)) > /proc/sys/kernel/ns_last_pid
      sleep 30 & N=$!
      echo "target=$T newcomer=$N"
      wait $TR; echo "tracker_exit=$?"
      kill $N`;
    const out = await new Deno.Command("unshare", {
      args: ["--pid", "--fork", "--mount-proc", "sh", "-c", script],
      env: cleanEnv(),
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    const m = /target=(\d+) newcomer=(\d+)/.exec(text);
    ok(m, text + new TextDecoder().decode(out.stderr));
    if (m[1] !== m[2]) return skip(`the PID was not reused (${m[1]} → ${m[2]})`);
    match(text, /tracker_exit=0\b/, new TextDecoder().decode(out.stderr));
    const samples = jsonLines(await Deno.readTextFile(`${dir}/out.jsonl`));
    ok(samples.length >= 2, `${samples.length} samples`);
    // The run ended with the first process: about 1.5 s of samples, not the 20 s timeout.
    const span = Number(samples.at(-1)!.timestamp_ms) - Number(samples[0]!.timestamp_ms);
    ok(span < 5_000, `${span} ms of samples`);
    strictEqual(out.code, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
