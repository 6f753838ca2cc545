/**
 * The V8 flags the binary is built with, read from deno.json's `compile` task (the one place
 * they are written). The CLI tests, the benchmark and the soak run the tracker with the same,
 * so what they measure is what ships. Why these flags: README "Performance".
 */
import denoJson from "../deno.json" with { type: "json" };

const found = /--v8-flags=\S+/.exec(denoJson.tasks.compile);
if (!found) throw new Error("deno.json: the compile task has no --v8-flags");

/** `--v8-flags=…`, to put right after `deno run`. */
export const V8_FLAGS_ARG: string = found[0];
