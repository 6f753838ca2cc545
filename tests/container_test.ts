/**
 * The Dockerfile's entrypoint, run the way a container runtime runs it: its ENTRYPOINT argv
 * (with `resource-tracker` found on PATH: the repository's launcher) plus a job as CMD, as PID 1
 * of a new PID namespace (`unshare --pid --fork --mount-proc`). The image itself cannot be built
 * here (no Docker daemon, no denort download).
 */
import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { cleanEnv, jsonLines, unshareWith } from "./helpers.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const DOCKERFILE = Deno.readTextFileSync(`${ROOT}/Dockerfile`);

/** The JSON-array ENTRYPOINT of the final stage. */
function entrypoint(): string[] {
  const lines = DOCKERFILE.split("\n").filter((l) => /^ENTRYPOINT /.test(l));
  equal(lines.length, 1, "one ENTRYPOINT");
  return JSON.parse(lines[0]!.slice("ENTRYPOINT ".length));
}

Deno.test("Dockerfile: a builder stage compiles, a small final stage runs the binary as entrypoint", () => {
  deepStrictEqual(entrypoint(), ["resource-tracker", "--"]);
  const stages = DOCKERFILE.split("\n").filter((l) => /^FROM /.test(l));
  equal(stages.length, 2);
  match(stages[0]!, /^FROM denoland\/deno:\S*2\.9\.6 AS build$/);
  ok(!/deno/.test(stages[1]!), `final stage: ${stages[1]}`);
  match(DOCKERFILE, /RUN deno task compile --host/);
  match(DOCKERFILE, /COPY --from=build \/resource-tracker \/usr\/local\/bin\/resource-tracker/);
});

Deno.test("entrypoint as PID 1: the job runs, SIGTERM to PID 1 reaches it, its exit code is the container's", async () => {
  const unshare = await unshareWith("--pid", "--fork", "--mount-proc");
  if (!unshare) {
    console.log("skipped: unshare --pid --mount-proc needs root (or a user namespace with mounts)");
    return;
  }
  const dir = Deno.makeTempDirSync();
  try {
    // PATH has `resource-tracker` (the launcher) and `deno` (the Deno running this test).
    Deno.mkdirSync(`${dir}/bin`);
    Deno.symlinkSync(`${ROOT}/bin/resource-tracker`, `${dir}/bin/resource-tracker`);
    Deno.symlinkSync(Deno.execPath(), `${dir}/bin/deno`);
    // `docker stop` sends SIGTERM to PID 1; here the job asks for it itself, once its trap is set.
    const job = [
      "sh",
      "-c",
      "echo \"pid1=$(cat /proc/1/comm)\"; trap 'echo got-term; exit 5' TERM; " +
      "(sleep 0.3 &); sleep 0.5; kill -TERM 1; sleep 10 & wait $!; echo not-stopped",
    ];
    const argv = [...entrypoint(), ...job];
    const out = await new Deno.Command(unshare[0]!, {
      args: [...unshare.slice(1), ...argv],
      env: cleanEnv({
        PATH: `${dir}/bin:/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin`,
        TRACKER_INTERVAL: "0.2",
      }),
      clearEnv: true,
      cwd: dir,
      stdin: "null",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    equal(out.code, 5, stderr);
    // The launcher execs Deno, so the tracker itself is PID 1.
    equal(stdout, "pid1=deno\ngot-term\n");
    const lines = stderr.split("\n");
    const samples = jsonLines(lines.filter((l) => l.startsWith("{")).join("\n"));
    ok(samples.length >= 1, stderr);
    for (const s of samples) ok(typeof s.tracked_pid === "number", JSON.stringify(s));
    match(stderr, /resource-tracker: "sh -c .*" exited with 5/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
