/** `flush --list` shows what the spool holds and why; `flush --drop` removes it (real CLI). */
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { closedPort } from "./fakes/loopback.ts";
import { HttpReceiver } from "./fakes/http_receiver.ts";
import { uploadRunArgs } from "./fakes/spool_run.ts";
import { runCli } from "./helpers.ts";

Deno.test("CLI: flush --list names run, sink, batch, age and last error; --drop and --all-rejected remove", async () => {
  const spool = await Deno.makeTempDir({ prefix: "rt-admin-" });
  const rx = new HttpReceiver();
  rx.faults.always = { status: 400 };
  const down = `http://127.0.0.1:${closedPort()}/down`;
  try {
    const common = ["--spool-dir", spool, "--flush-timeout", "1"];
    const run = await runCli([
      ...common,
      ...uploadRunArgs(4, "0.3"),
      "--sink",
      `${rx.url}/rejects`,
      "--sink",
      down,
    ]);
    strictEqual(run.code, 0, run.stderr);

    const list = await runCli(["flush", "--list", ...common]);
    strictEqual(list.code, 0, list.stderr);
    const lines = list.stdout.trimEnd().split("\n");
    match(lines[0]!, /^ID +SINK +RUN +BATCH +SAMPLES +AGE +LAST ERROR$/);
    const rejected = lines.filter((l) => l.includes(`${rx.url}/rejects`));
    const waiting = lines.filter((l) => l.includes(down));
    ok(rejected.length >= 1 && waiting.length >= 1, list.stdout);
    for (const l of rejected) match(l, /\d+s +\[rejected\] HTTP 400 Bad Request: "fault 400"$/);
    for (const l of waiting) match(l, / (connection refused|not sent before the deadline)/i);
    const samples = (rows: string[]) => rows.reduce((n, l) => n + Number(l.split(/ {2,}/)[4]), 0);
    strictEqual(samples(rejected), 4, list.stdout);
    strictEqual(samples(waiting), 4, list.stdout);

    // Only the rejected batches go.
    const drop = await runCli(["flush", "--all-rejected", ...common]);
    strictEqual(drop.code, 0, drop.stderr);
    strictEqual(drop.stderr.match(/^removed .*, rejected\)$/gm)?.length, rejected.length);
    const after = (await runCli(["flush", "--list", ...common])).stdout;
    ok(!after.includes(`${rx.url}/rejects`), after);
    ok(after.includes(down), after);

    // One batch by ID, then a whole job, then an unknown ID.
    const first = after.trimEnd().split("\n")[1]!.split(/ {2,}/)[0]!;
    const one = await runCli(["flush", "--drop", first, ...common]);
    strictEqual(one.code, 0, one.stderr);
    match(one.stderr, new RegExp(`^removed ${first} \\(\\d+ samples\\)$`, "m"));
    const job = first.split("/")[0]!;
    const rest = (await runCli(["flush", "--list", ...common])).stdout;
    if (rest.includes(job)) {
      const all = await runCli(["flush", "--drop", job, ...common]);
      strictEqual(all.code, 0, all.stderr);
    }
    const empty = await runCli(["flush", "--list", ...common]);
    deepStrictEqual([empty.stdout, empty.code], ["", 0]);
    match(empty.stderr, /is empty/);
    const bad = await runCli(["flush", "--drop", "nope/3", ...common]);
    strictEqual(bad.code, 1);
    match(bad.stderr, /flush --drop nope\/3: no such job or batch/);

    const misuse = await runCli(["--list", "--", "true"]);
    strictEqual(misuse.code, 2);
    match(misuse.stderr, /--list belongs to `resource-tracker flush`/);
  } finally {
    await rx.close();
    await Deno.remove(spool, { recursive: true });
  }
});
