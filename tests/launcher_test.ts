/**
 * bin/resource-tracker (the launcher a clone ships) and `install.sh --from-clone`: the tracker
 * runs in the caller's directory, with the shipped V8 flags, without asking npm's registry once a
 * Deno is cached, and with nothing of the launcher's own on stderr.
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { cleanEnv, jsonLines, unshareWith } from "./helpers.ts";
import { V8_FLAGS_ARG } from "../scripts/v8_flags.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const LAUNCHER = `${ROOT}/bin/resource-tracker`;
const dec = new TextDecoder();

async function run(cmd: string, args: string[], o: { cwd: string; env: Record<string, string> }) {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: o.cwd,
    env: o.env,
    clearEnv: true,
    stdin: "null",
  }).output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** A stand-in `deno` that reports VERSION and records its argv and working directory. */
function fakeDeno(path: string, version: string): void {
  Deno.writeTextFileSync(
    path,
    `#!/bin/sh\nif [ "$1" = --version ]; then echo "deno ${version} (stable)"; exit 0; fi\n` +
      `{ pwd; for a in "$@"; do echo "$a"; done; } > "$FAKE_DENO_LOG"\n`,
    { mode: 0o755 },
  );
}

/** A stand-in npm/npx that must not be called. */
function trapNpm(dir: string, marker: string): void {
  for (const name of ["npm", "npx"]) {
    Deno.writeTextFileSync(`${dir}/${name}`, `#!/bin/sh\necho "$0 $*" >> ${marker}\nexit 1\n`, {
      mode: 0o755,
    });
  }
}

const SYSTEM_PATH = "/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin";

Deno.test("launcher: deno 2.9 from PATH, caller's directory, V8 flags, the repository's config", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(`${dir}/bin`);
    Deno.mkdirSync(`${dir}/work`);
    fakeDeno(`${dir}/bin/deno`, "2.9.6");
    const env = cleanEnv({ PATH: `${dir}/bin:${SYSTEM_PATH}`, FAKE_DENO_LOG: `${dir}/log` });
    const r = await run(LAUNCHER, ["-o", "out.jsonl", "--", "make", "-j2"], {
      cwd: `${dir}/work`,
      env,
    });
    equal(r.code, 0, r.stderr);
    equal(r.stderr, "");
    const [cwd, ...argv] = Deno.readTextFileSync(`${dir}/log`).trimEnd().split("\n");
    equal(Deno.realPathSync(cwd!), Deno.realPathSync(`${dir}/work`));
    deepStrictEqual(argv, [
      "run",
      "--allow-all",
      "--quiet",
      "--no-prompt",
      V8_FLAGS_ARG,
      "--config",
      `${ROOT}/deno.json`,
      `${ROOT}/main.ts`,
      "-o",
      "out.jsonl",
      "--",
      "make",
      "-j2",
    ]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("launcher: a Deno other than 2.9 is passed over for npm's cached deno@2.9; npm is not asked", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(`${dir}/bin`);
    Deno.mkdirSync(`${dir}/npm/_npx/0123abcd/node_modules/deno`, { recursive: true });
    fakeDeno(`${dir}/bin/deno`, "2.1.4");
    trapNpm(`${dir}/bin`, `${dir}/npm-called`);
    const pkg = `${dir}/npm/_npx/0123abcd/node_modules/deno`;
    Deno.writeTextFileSync(
      `${pkg}/package.json`,
      `{\n  "name": "deno",\n  "version": "2.9.6"\n}\n`,
    );
    fakeDeno(`${pkg}/deno`, "2.9.6");
    const env = cleanEnv({
      PATH: `${dir}/bin:${SYSTEM_PATH}`,
      FAKE_DENO_LOG: `${dir}/log`,
      npm_config_cache: `${dir}/npm`,
    });
    const r = await run(LAUNCHER, ["--version"], { cwd: dir, env });
    equal(r.code, 0, r.stderr);
    equal(r.stderr, "");
    ok(Deno.readTextFileSync(`${dir}/log`).includes(`${ROOT}/main.ts\n--version`));
    let called = "";
    try {
      called = Deno.readTextFileSync(`${dir}/npm-called`);
    } catch { /* not called: what we want */ }
    equal(called, "");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

/** PATH with the Deno running these tests as `deno`, and the system's tools. */
function realDenoPath(dir: string): string {
  Deno.mkdirSync(`${dir}/denobin`, { recursive: true });
  Deno.symlinkSync(Deno.execPath(), `${dir}/denobin/deno`);
  return `${dir}/denobin:${SYSTEM_PATH}`;
}

Deno.test("launcher: relative -o, the default resource-tracker.toml and `-- make` resolve in the caller's directory", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const env = cleanEnv({ PATH: realDenoPath(dir) });
    Deno.writeTextFileSync(
      `${dir}/resource-tracker.toml`,
      '[tracker]\noutput = "from-toml.jsonl"\n',
    );
    const a = await run(LAUNCHER, ["--samples", "1", "-i", "0.1"], { cwd: dir, env });
    equal(a.code, 0, a.stderr);
    equal(a.stderr, "", "nothing but samples may reach stderr");
    equal(jsonLines(Deno.readTextFileSync(`${dir}/from-toml.jsonl`)).length, 1);
    const b = await run(LAUNCHER, ["--samples", "1", "-i", "0.1", "-o", "flag.jsonl"], {
      cwd: dir,
      env,
    });
    equal(b.code, 0, b.stderr);
    equal(jsonLines(Deno.readTextFileSync(`${dir}/flag.jsonl`)).length, 1);

    const hasMake = (await run("sh", ["-c", "command -v make"], { cwd: dir, env })).code === 0;
    if (!hasMake) {
      console.log("skipped the `-- make` part: make is not installed (.ci/run installs it)");
      return;
    }
    Deno.writeTextFileSync(`${dir}/Makefile`, "built.txt:\n\tpwd > built.txt\n");
    const c = await run(LAUNCHER, ["-q", "--no-summary", "-i", "0.1", "--", "make"], {
      cwd: dir,
      env,
    });
    equal(c.code, 0, c.stderr);
    equal(Deno.readTextFileSync(`${dir}/built.txt`).trim(), Deno.realPathSync(dir));
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("launcher: runs with the network off (no registry) once Deno is cached", async () => {
  const unshare = await unshareWith("--net");
  if (!unshare) {
    console.log("skipped: `unshare --net` is not allowed here (needs root or user namespaces)");
    return;
  }
  const dir = Deno.makeTempDirSync();
  try {
    trapNpm(`${dir}`, `${dir}/npm-called`);
    const env = cleanEnv({ PATH: `${dir}:${realDenoPath(dir)}` });
    // A config file makes the tracker load its npm TOML parser: it must come from the cache.
    Deno.writeTextFileSync(`${dir}/rt.toml`, "[job]\nname = 'offline'\n");
    const t0 = performance.now();
    const r = await run(unshare[0]!, [
      ...unshare.slice(1),
      LAUNCHER,
      "-c",
      "rt.toml",
      "--samples",
      "1",
    ], {
      cwd: dir,
      env,
    });
    const ms = performance.now() - t0;
    equal(r.code, 0, r.stderr);
    const [sample] = jsonLines(r.stderr);
    equal(sample?.job_name, "offline");
    // The time depends on the machine's load; reported, the bound is checked by hand (README).
    console.log(`offline run: ${Math.round(ms)} ms`);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("install.sh --from-clone puts the launcher on PATH; it runs anywhere", async () => {
  const dir = Deno.makeTempDirSync();
  try {
    const env = cleanEnv({ PATH: realDenoPath(dir), HOME: `${dir}/home` });
    const i = await run("sh", [`${ROOT}/install.sh`, "--from-clone"], { cwd: dir, env });
    equal(i.code, 0, i.stderr);
    match(i.stderr, /installed .*\/home\/\.local\/bin\/resource-tracker/);
    match(i.stderr, /is not on PATH/);
    Deno.mkdirSync(`${dir}/elsewhere`);
    const r = await run(`${dir}/home/.local/bin/resource-tracker`, ["--version"], {
      cwd: `${dir}/elsewhere`,
      env,
    });
    equal(r.code, 0, r.stderr);
    match(r.stdout, /^resource-tracker \d+\.\d+\.\d+\n$/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
