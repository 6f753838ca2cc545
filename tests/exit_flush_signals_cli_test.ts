/**
 * Issue 20, defect 3 through the real CLI: signals during the exit flush shorten the wait but
 * neither lose data (it is spooled) nor change the exit code. Also: in system-only mode every
 * signal that would kill the tracker stops it gracefully instead (defect 9).
 */
import { match, ok, strictEqual } from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { sleep } from "../base/time.ts";
import { Recorder } from "./fakes/recorder.ts";
import { jsonLines, runCli, spawnCli } from "./helpers.ts";

/** An endpoint that never answers while `hanging`, then accepts. */
function hangingEndpoint() {
  const gate = Promise.withResolvers<void>();
  const state = {
    hanging: true,
    firstRequest: Promise.withResolvers<void>(),
    /** Ends every hanging request (before the server shuts down). */
    open: () => {
      state.hanging = false;
      gate.resolve();
    },
  };
  const rx = new Recorder(async () => {
    state.firstRequest.resolve();
    if (state.hanging) await gate.promise;
    return new Response(null, { status: 204 });
  });
  return { rx, state };
}

function received(rx: Recorder, from: number): Record<string, unknown>[] {
  const text = rx.requests.slice(from).filter((r) => r.body.length > 0)
    .map((r) => new TextDecoder().decode(gunzipSync(r.body))).join("");
  return jsonLines(text);
}

for (
  const [mode, signals, expected] of [
    ["wrapper", ["SIGTERM", "SIGINT", "SIGHUP"], 3],
    ["system-only", ["SIGINT", "SIGTERM", "SIGHUP"], 0],
  ] as const
) {
  Deno.test(`CLI ${mode}: ${signals.join(", ")} during the exit flush keep exit ${expected} and every sample`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "rt-flushsig-" });
    const { rx, state } = hangingEndpoint();
    try {
      const common = ["--spool-dir", `${dir}/spool`, "--sink", `${rx.url}/in`];
      const args = [
        ...common,
        "-i",
        "0.2",
        "--format",
        "json",
        "-o",
        `${dir}/local.jsonl`,
        "--upload-interval",
        "600", // nothing is sent before the exit flush
        "--flush-timeout",
        "25",
        "--no-summary",
      ];
      const t0 = Date.now();
      const { child, output } = spawnCli(
        mode === "wrapper" ? [...args, "--", "sh", "-c", "sleep 1; exit 3"] : args,
      );
      if (mode === "system-only") {
        // A few samples first (however loaded the machine), then the stop: the flush starts.
        for (let i = 0; i < 150; i++) {
          const text = await Deno.readTextFile(`${dir}/local.jsonl`).catch(() => "");
          if (text.split("\n").filter(Boolean).length >= 3) break;
          await sleep(100);
        }
        child.kill("SIGTERM");
      }
      await state.firstRequest.promise; // the exit flush is under way, stuck on the endpoint
      for (const sig of signals) {
        try {
          child.kill(sig);
        } catch { /* already exited: the first signal ended the wait */ }
        await sleep(100);
      }
      const out = await output;
      strictEqual(out.code, expected, out.stderr);
      strictEqual(out.signal, null);
      ok(Date.now() - t0 < 20_000, "the signal shortened the 25 s wait");
      match(out.stderr, /samples in \d+ batches not delivered; kept in/);
      const local = jsonLines(await Deno.readTextFile(`${dir}/local.jsonl`));
      ok(local.length >= 1, `${local.length} samples`);

      const hung = rx.requests.length;
      state.open();
      const from = rx.requests.length;
      const flush = await runCli(["flush", ...common]);
      strictEqual(flush.code, 0, flush.stderr);
      ok(hung >= 1);
      strictEqual(received(rx, from).length, local.length, "every sample arrives");
    } finally {
      state.open();
      await rx.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("CLI system-only: SIGQUIT, SIGUSR1, SIGUSR2 and SIGALRM stop gracefully, flushed", async () => {
  for (const sig of ["SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM"] as const) {
    const dir = await Deno.makeTempDir({ prefix: "rt-sysstop-" });
    try {
      const { child, output } = spawnCli(["-i", "0.2", "-o", `${dir}/out.csv`]);
      // Wait for the first sample: the run's own handlers are then in place.
      for (let i = 0; i < 100; i++) {
        const text = await Deno.readTextFile(`${dir}/out.csv`).catch(() => "");
        if (text.split("\n").length > 2) break;
        await sleep(100);
      }
      child.kill(sig);
      const out = await output;
      strictEqual(out.code, 0, `${sig}: ${out.stderr}`);
      strictEqual(out.signal, null, sig);
      const text = await Deno.readTextFile(`${dir}/out.csv`);
      ok(text.endsWith("\n"), `${sig}: whole lines`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});
