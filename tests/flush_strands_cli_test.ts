/**
 * Issue 20, defect 6 through the real CLI: `flush` never strands data while reporting success.
 * Whatever it cannot send it names, and it exits 1.
 */
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { closedPort } from "./fakes/loopback.ts";
import { HttpReceiver } from "./fakes/http_receiver.ts";
import { batchFiles, spoolRun } from "./fakes/spool_run.ts";
import { jsonLines, runCli, spawnCli } from "./helpers.ts";

async function withSpool(f: (spool: string, port: number) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "rt-strand-" });
  try {
    await f(`${dir}/spool`, closedPort());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("CLI flush: an owner pid that is alive but is not the tracker (PID 1) does not strand the job", async () => {
  await withSpool(async (spool, port) => {
    const job = await spoolRun(spool, `http://127.0.0.1:${port}/in`);
    // What a tracker running as PID 1 in a container leaves: PID 1 is alive in the next one.
    await Deno.writeTextFile(`${job}/owner`, "1 12345\n");
    const rx = new HttpReceiver(port);
    try {
      const flush = await runCli(["flush", "--spool-dir", spool]);
      strictEqual(flush.code, 0, flush.stderr);
      strictEqual(jsonLines(rx.text()).length, 3);
    } finally {
      await rx.close();
    }
  });
});

Deno.test("CLI flush: missing, corrupt and null job.json are named and left; other jobs still go; exit 1", async () => {
  await withSpool(async (spool, port) => {
    const good = await spoolRun(spool, `http://127.0.0.1:${port}/in`);
    const missing = await spoolRun(spool, `http://127.0.0.1:${port}/in`);
    const corrupt = await spoolRun(spool, `http://127.0.0.1:${port}/in`);
    const nul = await spoolRun(spool, `http://127.0.0.1:${port}/in`);
    await Deno.remove(`${missing}/job.json`);
    await Deno.writeTextFile(`${corrupt}/job.json`, '{"version":1,"kind":"ht');
    await Deno.writeTextFile(`${nul}/job.json`, "null");
    const rx = new HttpReceiver(port);
    try {
      const flush = await runCli(["flush", "--spool-dir", spool]);
      strictEqual(flush.code, 1, flush.stderr);
      const id = (p: string) => p.slice(p.lastIndexOf("/") + 1);
      match(flush.stderr, new RegExp(`${id(missing)}: job.json is missing; \\d+ batches left`));
      match(flush.stderr, new RegExp(`${id(corrupt)}: job.json unreadable`));
      match(
        flush.stderr,
        new RegExp(`${id(nul)}: job.json is not a spool job \\(not an object\\)`),
      );
      match(flush.stderr, /3 spool jobs left in/);
      strictEqual(jsonLines(rx.text()).length, 3, "the good job was delivered");
      ok(!await Deno.stat(good).then(() => true, () => false), "and removed");
      for (const j of [missing, corrupt, nul]) ok((await batchFiles(j)).length > 0, "left as is");
    } finally {
      await rx.close();
    }
  });
});

Deno.test("CLI flush: a FIFO or garbage batch is left, never hangs nor uploads; exit 1", async () => {
  await withSpool(async (spool, port) => {
    const job = await spoolRun(spool, `http://127.0.0.1:${port}/in`);
    const [first, second] = await batchFiles(job);
    await Deno.remove(`${job}/${first}`);
    await new Deno.Command("mkfifo", { args: [`${job}/${first}`] }).output();
    await Deno.writeFile(`${job}/${second}`, new TextEncoder().encode("not gzip at all"));
    const rx = new HttpReceiver(port);
    try {
      const t0 = Date.now();
      const flush = await runCli(["flush", "--spool-dir", spool, "--flush-timeout", "20"]);
      strictEqual(flush.code, 1, flush.stderr);
      ok(Date.now() - t0 < 15_000, "did not wait on the FIFO");
      match(flush.stderr, /batch 1 \(it is a named pipe, not a regular file\)/);
      match(flush.stderr, /batch 2 is not a valid gzip body/);
      strictEqual(rx.requests, 1, "only the good batch was sent");
      strictEqual(jsonLines(rx.text()).length, 1);
    } finally {
      await rx.close();
    }
  });
});

Deno.test("CLI flush: two concurrent runs never send a batch twice (the job is locked)", async () => {
  await withSpool(async (spool, port) => {
    await spoolRun(spool, `http://127.0.0.1:${port}/in`, { samples: 4 });
    const rx = new HttpReceiver(port);
    rx.faults.always = { delayMs: 600, slowOk: true }; // slow: the runs overlap
    try {
      const a = spawnCli(["flush", "--spool-dir", spool]);
      const b = spawnCli(["flush", "--spool-dir", spool]);
      const [ra, rb] = await Promise.all([a.output, b.output]);
      deepStrictEqual([ra.code, rb.code].sort(), [0, 1], ra.stderr + rb.stderr);
      match(ra.stderr + rb.stderr, /in use by a running tracker or another `flush`/);
      strictEqual(rx.duplicates, 0);
      strictEqual(rx.requests, rx.batches.size);
      strictEqual(jsonLines(rx.text()).length, 4);
    } finally {
      await rx.close();
    }
  });
});
