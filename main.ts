/**
 * resource-tracker: samples a machine and (optionally) a job's process tree, writing JSON Lines
 * or CSV to sinks. This file only dispatches; the work lives in core/, collectors/ and sinks/.
 */
import denoJson from "./deno.json" with { type: "json" };
import { type Config, loadConfig } from "./core/config.ts";
import { oneLine, RuntimeError, UsageError } from "./core/errors.ts";
import { helpText } from "./core/help.ts";
import { error, warn, writeAllSync } from "./core/log.ts";
import { runLoop } from "./core/loop.ts";
import { Sampler } from "./core/sampler.ts";
import { createLocalSinks } from "./sinks/mod.ts";

export const VERSION: string = denoJson.version;

interface Subcommand {
  readonly name: string;
  readonly help: string;
  run(config: Config): Promise<number>;
}

/** Subcommands, dispatched by the first word (see `splitArgs`). */
const SUBCOMMANDS: readonly Subcommand[] = [];

const STOP_SIGNALS: readonly Deno.Signal[] = ["SIGINT", "SIGTERM"];

/** System-only tracking until SIGINT/SIGTERM. */
async function track(config: Config): Promise<number> {
  const sinks = createLocalSinks(config, warn);
  const sampler = new Sampler({
    roots: config.roots,
    jobName: config.metadata.job_name ?? null,
    version: VERSION,
    warn,
  });
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  for (const sig of STOP_SIGNALS) Deno.addSignalListener(sig, onSignal);
  try {
    await runLoop({
      intervalMs: config.interval * 1000,
      collect: (wallMs, actual) => sampler.collect(wallMs, actual),
      emit: (sample) => {
        for (const sink of sinks) sink.write(sample);
      },
      stop: stop.signal,
      maxSamples: config.samples,
    });
  } finally {
    for (const sig of STOP_SIGNALS) Deno.removeSignalListener(sig, onSignal);
    await Promise.all(sinks.map((s) => s.close()));
  }
  return 0;
}

export async function main(args: readonly string[]): Promise<number> {
  let config: Config;
  try {
    config = loadConfig({
      args,
      env: (name) => Deno.env.get(name),
      subcommands: SUBCOMMANDS.map((s) => s.name),
      readFile: (path) => Deno.readTextFileSync(path),
      warn,
    });
  } catch (err) {
    if (err instanceof UsageError) {
      error(err.message);
      return 2;
    }
    throw err;
  }
  if (config.help) {
    writeAllSync(Deno.stdout, helpText(VERSION, SUBCOMMANDS.map((s) => [s.name, s.help])));
    return 0;
  }
  if (config.version) {
    writeAllSync(Deno.stdout, `resource-tracker ${VERSION}\n`);
    return 0;
  }
  const sub = SUBCOMMANDS.find((s) => s.name === config.subcommand);
  if (sub) return await sub.run(config);
  return await track(config);
}

if (import.meta.main) {
  // Nothing reaches the user as a stack trace: unexpected failures become one line.
  globalThis.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    error(`internal error: ${oneLine(e.reason)}`);
  });
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (err) {
    error(oneLine(err));
    code = err instanceof UsageError ? 2 : err instanceof RuntimeError ? err.exitCode : 1;
  }
  Deno.exit(code);
}
