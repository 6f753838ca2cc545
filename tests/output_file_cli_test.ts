/**
 * Issue 20, defect 4 through the real CLI: output files are opened O_NOFOLLOW (O_EXCL when
 * new), checked on the opened descriptor (regular file, ours), then truncated; another user's
 * file is refused, modes are tightened to 0600, FIFOs neither hang nor are written.
 */
import { match, ok, strictEqual } from "node:assert/strict";
import { symlinkRacer } from "./fakes/racer.ts";
import { otherUser, skip } from "./fakes/users.ts";
import { runCli, withTempDir } from "./helpers.ts";

const ONE = ["-i", "0.1", "--samples", "1"];

const withTmp = (f: (dir: string) => Promise<void>) => withTempDir("rt-out-", f);

Deno.test("CLI -o: another user's file is refused and left untouched (root tracker)", async () => {
  const u = await otherUser();
  if (typeof u === "string") return skip(u);
  await withTmp(async (dir) => {
    const theirs = `${dir}/theirs.csv`;
    await Deno.writeTextFile(theirs, "their data\n");
    await Deno.chmod(theirs, 0o666);
    await Deno.chown(theirs, u.uid, u.gid);
    const summary = ["--summary-json", theirs, "--", "true"];
    for (const args of [["-o", theirs], ["--sink", theirs, "-q"], summary]) {
      const r = await runCli([...ONE, ...args]);
      if (args[0] === "--summary-json") {
        // The summary is written after the run: a warning, the exit code stays.
        match(r.stderr, /owned by uid \d+, not by you/);
      } else {
        strictEqual(r.code, 1, r.stderr);
        match(r.stderr, new RegExp(`cannot open output file ".*theirs.csv": it is owned by uid`));
      }
      strictEqual(await Deno.readTextFile(theirs), "their data\n", args.join(" "));
      strictEqual((await Deno.stat(theirs)).mode! & 0o777, 0o666);
    }
  });
});

Deno.test("CLI -o: an existing file of ours is tightened to 0600; a FIFO is refused at once", async () => {
  await withTmp(async (dir) => {
    const mine = `${dir}/mine.csv`;
    await Deno.writeTextFile(mine, "old\n");
    await Deno.chmod(mine, 0o666);
    const r = await runCli([...ONE, "-o", mine]);
    strictEqual(r.code, 0, r.stderr);
    strictEqual((await Deno.stat(mine)).mode! & 0o777, 0o600);
    ok(!(await Deno.readTextFile(mine)).includes("old"), "truncated");

    await new Deno.Command("mkfifo", { args: [`${dir}/fifo`] }).output();
    // A reader on the FIFO: without O_NONBLOCK and the type check the open would succeed.
    const reader = new Deno.Command("sh", {
      args: ["-c", `exec 3<>${dir}/fifo; sleep 120`],
    }).spawn();
    try {
      const t0 = Date.now();
      const f = await runCli([...ONE, "-o", `${dir}/fifo`]);
      strictEqual(f.code, 1, f.stderr);
      match(f.stderr, /"[^"]*fifo": it is a named pipe, not a regular file/);
      // Refused, not blocked until the reader goes away (it would stay for 120 s): a hang
      // detector, loose enough for a loaded machine.
      ok(Date.now() - t0 < 60_000);
    } finally {
      reader.kill();
      await reader.status;
    }
  });
});

Deno.test("CLI -o: a racer swapping the path for a symlink never gets the victim truncated", async () => {
  await withTmp(async (dir) => {
    const victim = `${dir}/victim`;
    const victimText = "precious\n".repeat(100);
    await Deno.writeTextFile(victim, victimText);
    const path = `${dir}/out.csv`;
    const stopRacer = await symlinkRacer(victim, path);
    let opened = 0, refused = 0;
    try {
      for (let i = 0; i < 12; i++) {
        const r = await runCli([...ONE, "-o", path]);
        if (r.code === 0) opened++;
        else {
          refused++;
          match(r.stderr, /cannot open output file .*(symbolic link|changed)/);
        }
        strictEqual(await Deno.readTextFile(victim), victimText, `run ${i}`);
      }
    } finally {
      await stopRacer();
    }
    console.log(`racer: ${opened} runs opened a regular file, ${refused} refused a symlink`);
  });
});
