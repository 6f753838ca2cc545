/** The sinks' settings from the resolved options: the one place their names are looked up. */
import { UsageError } from "../base/errors.ts";
import type { FlushSettings, SinkSettings } from "../sinks/settings.ts";
import type { Config } from "./config.ts";

/** Options that mean something to `flush` only; elsewhere they are usage errors. */
const FLUSH_ONLY = ["list", "drop", "all-rejected"] as const;

export function sinkSettings(config: Config): SinkSettings {
  const v = config.values;
  if (config.subcommand !== "flush") {
    for (const flag of FLUSH_ONLY) {
      const given = v.get(flag);
      if (given === true || (Array.isArray(given) && given.length > 0)) {
        throw new UsageError(`--${flag} belongs to \`resource-tracker flush\``);
      }
    }
  }
  return {
    uris: (v.get("sink") as string[] | undefined) ?? [],
    output: config.output,
    format: config.format,
    quiet: config.quiet,
    intervalSecs: config.interval,
    maxSizeBytes: (v.get("max-size") as number | undefined) ?? null,
    maxFiles: v.get("max-files") as number,
    uploadIntervalSecs: v.get("upload-interval") as number,
    spoolDir: (v.get("spool-dir") as string | undefined) ?? null,
    flushTimeoutSecs: v.get("flush-timeout") as number,
    httpTokenEnv: v.get("http-token-env") as string,
    live: v.get("live") === true,
    listen: (v.get("listen") as string | undefined) ?? null,
  };
}

export function flushSettings(config: Config): FlushSettings {
  const v = config.values;
  return {
    list: v.get("list") === true,
    drop: (v.get("drop") as string[] | undefined) ?? [],
    allRejected: v.get("all-rejected") === true,
  };
}
