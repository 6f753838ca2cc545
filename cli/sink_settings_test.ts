import { deepStrictEqual, throws } from "node:assert/strict";
import { loadConfig } from "./config.ts";
import { flushSettings, sinkSettings } from "./sink_settings.ts";

const load = (args: string[], env: Record<string, string> = {}) =>
  loadConfig({
    args,
    env: (n) => env[n],
    subcommands: ["flush"],
    readFile: (p) => {
      throw new Deno.errors.NotFound(p);
    },
    warn: () => {},
  });

Deno.test("sink settings: the registry's defaults, then flags and variables, typed", () => {
  deepStrictEqual(sinkSettings(load([])), {
    uris: [],
    output: null,
    format: "json",
    quiet: false,
    intervalSecs: 1,
    maxSizeBytes: null,
    maxFiles: 5,
    uploadIntervalSecs: 60,
    spoolDir: null,
    flushTimeoutSecs: 10,
    httpTokenEnv: "TRACKER_HTTP_TOKEN",
    live: false,
    listen: null,
  });
  const s = sinkSettings(
    load(["--sink", "a.jsonl", "--sink", "s3://b/p", "--max-size", "10M", "--live"], {
      TRACKER_FLUSH_TIMEOUT: "3",
      TRACKER_HTTP_TOKEN_ENV: "MY_TOKEN",
    }),
  );
  deepStrictEqual(
    [s.uris, s.maxSizeBytes, s.live, s.flushTimeoutSecs, s.httpTokenEnv],
    [["a.jsonl", "s3://b/p"], 10 * 1048576, true, 3, "MY_TOKEN"],
  );
  deepStrictEqual(flushSettings(load(["flush", "--drop", "x", "--list"])), {
    list: true,
    drop: ["x"],
    allRejected: false,
  });
});

Deno.test("sink settings: flush's own options are usage errors outside `flush`", () => {
  throws(() => sinkSettings(load(["--list"])), /--list belongs to `resource-tracker flush`/);
  throws(() => sinkSettings(load(["--drop", "x"])), /--drop belongs to/);
  deepStrictEqual(sinkSettings(load(["flush", "--all-rejected"])).uris, []);
});
