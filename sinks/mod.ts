/** Sink registry: the local output chosen by --output/--quiet, plus (later) --sink URIs. */
import type { Config } from "../core/config.ts";
import { createEncoder } from "../formats/mod.ts";
import { createFileSink } from "./file.ts";
import type { Sink } from "./sink.ts";
import { createStreamSink } from "./stream.ts";

export type { Sink } from "./sink.ts";

/** The R-compatible local output: stderr by default, `-` = stdout, a path = file; none if quiet. */
export function createLocalSinks(config: Config, warn: (l: string) => void): Sink[] {
  if (config.quiet) return [];
  const encoder = createEncoder(config.format, config.interval);
  if (config.output === null) return [createStreamSink("stderr", encoder)];
  if (config.output === "-") return [createStreamSink("stdout", encoder)];
  return [createFileSink(config.output, encoder, warn)];
}
