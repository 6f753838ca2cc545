/**
 * The V8 flags the binary is built with, read from deno.json's `run` task, the one place they
 * are written (scripts/compile.ts, bin/resource-tracker and the Dockerfile's build take them from
 * there). The CLI tests, the benchmark and the soak run the tracker with the same, so what they
 * measure is what ships. Why these flags: README "Performance".
 */
import denoJson from "../deno.json" with { type: "json" };

const found = /--v8-flags=\S+/.exec(denoJson.tasks.run);
if (!found) throw new Error("deno.json: the run task has no --v8-flags");

/** `--v8-flags=…`, to put right after `deno run`. */
export const V8_FLAGS_ARG: string = found[0];
