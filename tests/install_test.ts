/**
 * install.sh end to end against a loopback HTTP server serving artifacts made here by
 * scripts/pack.sh from a stand-in executable: a good one installs (checksum verified), a
 * corrupted one is refused, a CPU without an artifact is named, an unwritable prefix is refused
 * without root.
 */
import { equal, match, ok } from "node:assert/strict";
import { createHash } from "node:crypto";
import { exists } from "../base/path.ts";
import { cleanEnv, hasTool, skipWithout } from "./helpers.ts";
import { serve } from "./fakes/loopback.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const dec = new TextDecoder();
const SYSTEM_PATH = "/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin";

async function sh(args: string[], env: Record<string, string>, cwd: string) {
  const out = await new Deno.Command("sh", { args, env, clearEnv: true, cwd, stdin: "null" })
    .output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Serves files under `dir` at http://127.0.0.1:PORT/PATH. */
function serveFiles(dir: string) {
  const requests: string[] = [];
  const srv = serve((_req, url) => {
    requests.push(url.pathname);
    try {
      return new Response(Deno.readFileSync(`${dir}${url.pathname}`));
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  return { ...srv, requests };
}

/** A fake `uname` reporting Linux and MACHINE, first on PATH. */
function fakeUname(dir: string, machine: string): void {
  Deno.writeTextFileSync(
    `${dir}/uname`,
    `#!/bin/sh\ncase "$1" in -m) echo ${machine} ;; *) echo Linux ;; esac\n`,
    { mode: 0o755 },
  );
}

const ARCH = Deno.build.arch; // "x86_64" | "aarch64"
const TARGET = `${ARCH}-unknown-linux-gnu`;
const OTHER = ARCH === "x86_64" ? "aarch64" : "x86_64";

Deno.test("install.sh: downloads, verifies SHA-256 and installs; refuses corruption and missing CPUs", async () => {
  if (skipWithout("install.sh", "tar", "gzip", hasTool("curl") ? "curl" : "wget")) return;
  if (!hasTool("sha256sum") && !hasTool("shasum") && !hasTool("openssl")) {
    console.log('skipped "install.sh": no sha256sum, shasum or openssl');
    return;
  }
  const dir = Deno.makeTempDirSync();
  const srv = serveFiles(`${dir}/www`);
  try {
    // Release artifacts as scripts/pack.sh makes them, from a stand-in executable.
    Deno.mkdirSync(`${dir}/www/good`, { recursive: true });
    Deno.mkdirSync(`${dir}/www/bad`, { recursive: true });
    Deno.writeTextFileSync(
      `${dir}/www/good/resource-tracker-${TARGET}`,
      '#!/bin/sh\necho "resource-tracker 9.9.9-standin"\n',
      { mode: 0o755 },
    );
    const pack = await sh([`${ROOT}/scripts/pack.sh`, `${dir}/www/good`], cleanEnv(), dir);
    equal(pack.code, 0, pack.stderr);
    const art = `resource-tracker-${TARGET}.tar.gz`;
    const bytes = Deno.readFileSync(`${dir}/www/good/${art}`);
    const sum = Deno.readTextFileSync(`${dir}/www/good/${art}.sha256`);
    equal(sum, `${createHash("sha256").update(bytes).digest("hex")}  ${art}\n`);
    // Corrupted in transit: one byte flipped, the published checksum unchanged.
    const bad = bytes.slice();
    bad[bad.length >> 1]! ^= 0xff;
    Deno.writeFileSync(`${dir}/www/bad/${art}`, bad);
    Deno.writeTextFileSync(`${dir}/www/bad/${art}.sha256`, sum);

    Deno.mkdirSync(`${dir}/bin`);
    fakeUname(`${dir}/bin`, ARCH === "x86_64" ? "amd64" : "arm64"); // the aliases map too
    const env = cleanEnv({
      PATH: `${dir}/bin:${SYSTEM_PATH}`,
      HOME: `${dir}/home`,
      no_proxy: "127.0.0.1",
      NO_PROXY: "127.0.0.1",
    });
    const script = `${ROOT}/install.sh`;

    // Default prefix ~/.local; base URL from the variable.
    const a = await sh([script], { ...env, RESOURCE_TRACKER_BASE_URL: `${srv.url}/good` }, dir);
    equal(a.code, 0, a.stderr);
    match(a.stderr, /resource-tracker 9\.9\.9-standin/);
    const installed = `${dir}/home/.local/bin/resource-tracker`;
    equal(Deno.statSync(installed).mode! & 0o777, 0o755);
    ok(srv.requests.includes(`/good/${art}`) && srv.requests.includes(`/good/${art}.sha256`));

    // --prefix and --base-url flags.
    const b = await sh(
      [script, "--prefix", `${dir}/opt`, "--base-url", `${srv.url}/good/`],
      env,
      dir,
    );
    equal(b.code, 0, b.stderr);
    ok(Deno.statSync(`${dir}/opt/bin/resource-tracker`).isFile);

    // Corrupted: refused with both hashes named, nothing installed.
    const c = await sh([script, "--prefix", `${dir}/c`, "--base-url", `${srv.url}/bad`], env, dir);
    equal(c.code, 1);
    match(
      c.stderr,
      /checksum mismatch for resource-tracker-.*: expected [0-9a-f]{64}, got [0-9a-f]{64}/,
    );
    match(c.stderr, /nothing was installed/);
    ok(!exists(`${dir}/c/bin/resource-tracker`));

    // A CPU the release does not have.
    fakeUname(`${dir}/bin`, OTHER);
    const d = await sh([script, "--prefix", `${dir}/d`, "--base-url", `${srv.url}/good`], env, dir);
    equal(d.code, 1);
    match(
      d.stderr,
      new RegExp(`no release artifact for Linux/${OTHER} \\(resource-tracker-${OTHER}`),
    );
    ok(!exists(`${dir}/d/bin/resource-tracker`));

    // A CPU no release is built for.
    fakeUname(`${dir}/bin`, "riscv64");
    const e = await sh([script, "--prefix", `${dir}/e`, "--base-url", `${srv.url}/good`], env, dir);
    equal(e.code, 1);
    match(e.stderr, /unsupported CPU riscv64/);

    // A prefix it cannot write: refused, no sudo unless asked.
    fakeUname(`${dir}/bin`, ARCH);
    Deno.writeTextFileSync(`${dir}/notadir`, "");
    const f = await sh(
      [script, "--prefix", `${dir}/notadir`, "--base-url", `${srv.url}/good`],
      env,
      dir,
    );
    equal(f.code, 1);
    match(f.stderr, /cannot write to .*notadir\/bin; choose another --prefix or rerun with --sudo/);
  } finally {
    await srv.close();
    Deno.removeSync(dir, { recursive: true });
  }
});
