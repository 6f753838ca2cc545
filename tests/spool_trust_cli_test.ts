/**
 * Issue 20, defect 1 through the real CLI: `flush` uses nothing from a spool another user could
 * write, never reads through a symlink, and takes credentials only from the caller.
 */
import { deepStrictEqual, match, ok, strictEqual } from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { closedPort } from "./fakes/loopback.ts";
import { HttpReceiver } from "./fakes/http_receiver.ts";
import { Recorder } from "./fakes/recorder.ts";
import { batchFiles, spoolRun, uploadRunArgs } from "./fakes/spool_run.ts";
import { asUser, otherUser, skip } from "./fakes/users.ts";
import { jsonLines, runCli } from "./helpers.ts";

const SECRET_FILE_TEXT = "ROOT-ONLY-CONTENT-5e1f";

/** A temporary folder and a recorder of anything sent, both gone after `f`. */
async function withTmp(f: (dir: string, rx: Recorder) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "rt-trust-" });
  const rx = new Recorder();
  try {
    await f(dir, rx);
  } finally {
    await rx.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Makes `<dir>/<name>` with `mode`, in a `dir` others may only traverse (0711); returns it. */
async function subdir(dir: string, name: string, mode: number): Promise<string> {
  await Deno.chmod(dir, 0o711);
  const path = `${dir}/${name}`;
  await Deno.mkdir(path);
  await Deno.chmod(path, mode);
  return path;
}

const plantedJob = (url: string) =>
  JSON.stringify({
    version: 1,
    kind: "http",
    ext: "jsonl.gz",
    url,
    format: "json",
    tokenEnv: "AWS_SECRET_ACCESS_KEY",
    run: "evil",
    counts: { "1": 1 },
  });

Deno.test("CLI flush: a shared (1777) spool with another user's planted job is refused, nothing sent", async () => {
  const u = await otherUser();
  if (typeof u === "string") return skip(u);
  await withTmp(async (dir, rx) => {
    const shared = await subdir(dir, "shared", 0o1777);
    await Deno.writeTextFile(`${dir}/rootonly`, SECRET_FILE_TEXT, { mode: 0o600 });
    await asUser(
      u,
      `mkdir -m 700 ${shared}/http-evil && cd ${shared}/http-evil && ` +
        `printf '%s' '${plantedJob(`${rx.url}/steal`)}' > job.json && ` +
        `ln -s ${dir}/rootonly 000001.jsonl.gz`,
    );
    const flush = await runCli(["flush", "--spool-dir", shared], {
      env: { AWS_SECRET_ACCESS_KEY: "aws-secret-value-77" },
    });
    strictEqual(flush.code, 1, flush.stderr);
    match(
      flush.stderr,
      /spool directory ".*shared" refused, it is writable by group or others \(mode 1777\)/,
    );
    strictEqual(rx.requests.length, 0, "nothing was sent to the planted URL");
    ok(!flush.stderr.includes("aws-secret-value-77"));
  });
});

Deno.test("CLI: a root tracker neither chmods nor writes another user's spool; flush refuses it", async () => {
  const u = await otherUser();
  if (typeof u === "string") return skip(u);
  await withTmp(async (dir, rx) => {
    const theirs = await subdir(dir, "theirs", 0o755);
    await Deno.chown(theirs, u.uid, u.gid);
    const run = await runCli([
      "--spool-dir",
      theirs,
      "--flush-timeout",
      "1",
      ...uploadRunArgs(2),
      "--sink",
      `http://127.0.0.1:${closedPort()}/in`,
    ]);
    strictEqual(run.code, 0, run.stderr);
    match(run.stderr, /refused, it is owned by uid \d+, not by you \(uid 0\)/);
    const st = await Deno.stat(theirs);
    strictEqual(st.mode! & 0o7777, 0o755, "mode left as it was");
    strictEqual(st.uid, u.uid);
    deepStrictEqual(await Array.fromAsync(Deno.readDir(theirs)), [], "nothing written into it");

    await asUser(
      u,
      `mkdir -m 700 ${theirs}/http-evil && printf '%s' '${
        plantedJob(`${rx.url}/steal`)
      }' > ${theirs}/http-evil/job.json`,
    );
    const flush = await runCli(["flush", "--spool-dir", theirs], {
      env: { AWS_SECRET_ACCESS_KEY: "aws-secret-value-77" },
    });
    strictEqual(flush.code, 1, flush.stderr);
    match(flush.stderr, /owned by uid \d+, not by you/);
    strictEqual(rx.requests.length, 0);
  });
});

Deno.test("CLI flush: batches that are symlinks or another user's files are left, never read", async () => {
  const u = await otherUser();
  await withTmp(async (dir, rx) => {
    const spool = `${dir}/spool`;
    const job = await spoolRun(spool, `http://127.0.0.1:${closedPort()}/in`);
    // job.json is ours now: point it at the recorder and try to name a secret variable.
    const meta = JSON.parse(await Deno.readTextFile(`${job}/job.json`));
    await Deno.writeTextFile(
      `${job}/job.json`,
      JSON.stringify({ ...meta, url: `${rx.url}/in`, tokenEnv: "AWS_SECRET_ACCESS_KEY" }),
    );
    const batches = await batchFiles(job);
    ok(batches.length >= 2, batches.join(" "));
    await Deno.writeTextFile(`${dir}/rootonly`, SECRET_FILE_TEXT, { mode: 0o600 });
    await Deno.remove(`${job}/${batches[0]}`);
    await Deno.symlink(`${dir}/rootonly`, `${job}/${batches[0]}`);
    if (typeof u !== "string") await Deno.chown(`${job}/${batches[1]}`, u.uid, u.gid);
    else skip(`second-user part: ${u}`);

    const flush = await runCli(["flush", "--spool-dir", spool], {
      env: { AWS_SECRET_ACCESS_KEY: "aws-secret-value-77" },
    });
    strictEqual(flush.code, 1, flush.stderr);
    match(flush.stderr, /symbolic link; refusing to follow it/);
    if (typeof u !== "string") match(flush.stderr, /owned by uid \d+, not by you/);
    match(flush.stderr, /not delivered; kept in/);
    for (const r of rx.requests) {
      strictEqual(r.authorization, null, "no token from a variable job.json named");
      ok(!new TextDecoder().decode(gunzipSync(r.body)).includes(SECRET_FILE_TEXT));
    }
    ok(!flush.stderr.includes("aws-secret-value-77"));
  });
});

Deno.test("CLI flush: the bearer token comes from the caller's --http-token-env, not job.json", async () => {
  await withTmp(async (dir) => {
    const port = closedPort();
    const spool = `${dir}/spool`;
    const job = await spoolRun(spool, `http://127.0.0.1:${port}/in`, {
      extra: ["--http-token-env", "FIRST_TOKEN"],
      env: { FIRST_TOKEN: "tok-first-123" },
    });
    const text = await Deno.readTextFile(`${job}/job.json`);
    ok(!text.includes("FIRST_TOKEN") && !text.includes("tokenEnv"), text);
    const rx = new HttpReceiver(port);
    try {
      const flush = await runCli(
        ["flush", "--spool-dir", spool, "--http-token-env", "SECOND_TOKEN"],
        { env: { FIRST_TOKEN: "tok-first-123", SECOND_TOKEN: "tok-second-456" } },
      );
      strictEqual(flush.code, 0, flush.stderr);
      strictEqual(jsonLines(rx.text()).length, 3);
      for (const b of rx.batches.values()) strictEqual(b.authorization, "Bearer tok-second-456");
    } finally {
      await rx.close();
    }
  });
});

Deno.test("CLI flush: a URL with a query secret is not kept in clear; flush needs the same --sink", async () => {
  await withTmp(async (dir) => {
    const port = closedPort();
    const spool = `${dir}/spool`;
    const url = `http://127.0.0.1:${port}/in?key=q-secret-9931`;
    const job = await spoolRun(spool, url);
    for (const name of await Array.fromAsync(Deno.readDir(job))) {
      if (name.isFile && !/\.gz$/.test(name.name)) {
        ok(!(await Deno.readTextFile(`${job}/${name.name}`)).includes("q-secret-9931"), name.name);
      }
    }
    const fwd = new HttpReceiver(port);
    try {
      const bare = await runCli(["flush", "--spool-dir", spool]);
      strictEqual(bare.code, 1, bare.stderr);
      match(bare.stderr, /held credentials.*flush --sink URL/);
      ok(!bare.stderr.includes("q-secret-9931"));
      strictEqual(fwd.requests, 0);
      const other = await runCli(["flush", "--spool-dir", spool, "--sink", `${url}-wrong`]);
      strictEqual(other.code, 1, other.stderr);
      const good = await runCli(["flush", "--spool-dir", spool, "--sink", url]);
      strictEqual(good.code, 0, good.stderr);
      strictEqual(jsonLines(fwd.text()).length, 3);
    } finally {
      await fwd.close();
    }
  });
});
