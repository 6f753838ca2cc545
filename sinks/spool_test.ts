import { deepStrictEqual, rejects, strictEqual } from "node:assert/strict";
import { defaultSpoolDir, findJobs, scanSpool, SpoolJob } from "./spool.ts";
import { SPOOLED } from "./registry.ts";

Deno.test("spool: default directory follows XDG_STATE_HOME, else ~/.local/state", () => {
  strictEqual(
    defaultSpoolDir((n) => ({ XDG_STATE_HOME: "/s" } as Record<string, string>)[n]),
    "/s/resource-tracker/spool",
  );
  strictEqual(
    defaultSpoolDir((n) => ({ HOME: "/h" } as Record<string, string>)[n]),
    "/h/.local/state/resource-tracker/spool",
  );
});

Deno.test("spool: private modes, atomic batches, found again by a later run", async () => {
  const root = `${await Deno.makeTempDir()}/spool`;
  try {
    const job = new SpoolJob(root, "http-x", { version: 1, kind: "http", ext: "jsonl.gz" });
    strictEqual(job.exists, false, "nothing on disk before the first batch");
    await job.put(7, new Uint8Array([1, 2, 3]), 5);
    strictEqual((await Deno.stat(root)).mode! & 0o777, 0o700);
    strictEqual((await Deno.stat(job.dir)).mode! & 0o777, 0o700);
    strictEqual((await Deno.stat(`${job.dir}/000007.jsonl.gz`)).mode! & 0o777, 0o600);
    strictEqual((await Deno.stat(`${job.dir}/job.json`)).mode! & 0o777, 0o600);
    // A job whose writer still holds its lock is left alone, and said to be.
    const busy = await scanSpool(root, SPOOLED);
    deepStrictEqual(busy.jobs, []);
    deepStrictEqual(busy.left.map((l) => [l.id, l.batches]), [["http-x", 1]]);
    await job.release(true);
    const found = await findJobs(root, SPOOLED);
    strictEqual(found.length, 1);
    deepStrictEqual(found[0]!.batches.map((b) => [b.seq, b.samples]), [[7, 5]]);
    await found[0]!.job.release(false);
    deepStrictEqual(await findJobs(root, SPOOLED), []);
  } finally {
    await Deno.remove(root.replace(/\/spool$/, ""), { recursive: true });
  }
});

Deno.test("spool: refuses a root that is a symlink", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/elsewhere`);
    await Deno.symlink(`${dir}/elsewhere`, `${dir}/spool`);
    const job = new SpoolJob(`${dir}/spool`, "s3-x", { version: 1, kind: "s3", ext: "csv.gz" });
    await rejects(() => job.put(1, new Uint8Array(1), 1), /refused, it is a symbolic link/);
    deepStrictEqual(await Array.fromAsync(Deno.readDir(`${dir}/elsewhere`)), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("spool: refuses a root writable by others and never chmods it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/spool`);
    await Deno.chmod(`${dir}/spool`, 0o1777);
    const job = new SpoolJob(`${dir}/spool`, "s3-x", { version: 1, kind: "s3", ext: "csv.gz" });
    await rejects(
      () => job.put(1, new Uint8Array(1), 1),
      /writable by group or others \(mode 1777\)/,
    );
    await rejects(() => scanSpool(`${dir}/spool`, SPOOLED), /writable by group or others/);
    strictEqual((await Deno.stat(`${dir}/spool`)).mode! & 0o7777, 0o1777, "left as it was");
    deepStrictEqual(await Array.fromAsync(Deno.readDir(`${dir}/spool`)), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
