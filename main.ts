/**
 * resource-tracker: samples a machine and (optionally) a job's process tree, writing JSON Lines
 * or CSV to sinks. This file only dispatches; the work lives in core/, collectors/ and sinks/.
 */
import denoJson from "./deno.json" with { type: "json" };
import { readSmallTextFile } from "./core/bounded_read.ts";
import { type Config, loadConfigLazily } from "./core/config.ts";
import { captureEarlySignals, releaseEarlySignals } from "./core/early_signals.ts";
import { oneLine, RuntimeError, UsageError } from "./core/errors.ts";
import { helpText } from "./core/help.ts";
import { error, warn, writeAllSync } from "./core/log.ts";
import { gpuFor, hostFacts, track } from "./core/run.ts";
import { SIGNAL_NUMBERS } from "./core/supervisor.ts";
import { EMPTY_CLOUD } from "./clouds/types.ts";
import { runFlushCommand } from "./sinks/mod.ts";

export const VERSION: string = denoJson.version;

interface Subcommand {
  readonly name: string;
  readonly help: string;
  run(config: Config): Promise<number>;
  /** Subcommands that parse their own arguments (report: `-o` is not `--output`). */
  raw?: (args: readonly string[]) => Promise<number>;
}

const env = (name: string) => Deno.env.get(name);

/** `resource-tracker host`: host facts (Sentinel wire names) as JSON. */
async function hostCommand(config: Config): Promise<number> {
  const gpu = await gpuFor(config, warn);
  const host = await hostFacts(config, gpu);
  await gpu?.close();
  writeAllSync(Deno.stdout, JSON.stringify(host, null, 2) + "\n");
  return 0;
}

/** Subcommands, dispatched by the first word (see `splitArgs`). */
const SUBCOMMANDS: readonly Subcommand[] = [
  {
    name: "report",
    help: "Write an HTML report of a recorded run: charts, right-sizing, cost, energy.",
    run: () => Promise.resolve(2),
    raw: async (args) =>
      (await import("./report/cli.ts")).runReportCommand(args, { version: VERSION, env, warn }),
  },
  {
    name: "replay",
    help: "Send a recorded run to sinks (--sink URI…) with its original timestamps.",
    run: () => Promise.resolve(2),
    raw: async (args) =>
      (await import("./report/replay.ts")).runReplayCommand(args, { version: VERSION, env, warn }),
  },
  {
    name: "flush",
    help: "Send what earlier runs left in the spool (undelivered batches) and exit.",
    run: (config) =>
      runFlushCommand({
        config,
        env,
        warn,
        run: {
          metadata: { ...config.metadata },
          tags: { ...config.tags },
          command: null,
          host: () => Promise.resolve({}),
          cloud: () => Promise.resolve({ ...EMPTY_CLOUD }),
        },
      }),
  },
  {
    name: "host",
    help: "Print the host facts (CPU, memory, GPUs, storage) as JSON.",
    run: hostCommand,
  },
  {
    name: "cloud",
    help: "Detect the cloud provider (DMI, then metadata services) and print it as JSON.",
    run: async (config) => {
      const only = config.values.get("cloud") as string | undefined;
      const { runCloudCommand } = await import("./clouds/command.ts");
      return await runCloudCommand({
        sys: config.roots.sys,
        env,
        disabled: config.values.get("no-cloud") === true,
        ...(only ? { only } : {}),
      }, (line) => writeAllSync(Deno.stdout, line + "\n"));
    },
  },
];

export async function main(args: readonly string[]): Promise<number> {
  const raw = SUBCOMMANDS.find((s) => s.raw && s.name === args[0]);
  if (raw) {
    try {
      return await raw.raw!(args.slice(1));
    } catch (err) {
      if (err instanceof UsageError) {
        error(err.message);
        return 2;
      }
      throw err;
    }
  }
  let config: Config;
  try {
    config = await loadConfigLazily({
      args,
      env: (name) => Deno.env.get(name),
      subcommands: SUBCOMMANDS.map((s) => s.name),
      readFile: (path) => readSmallTextFile(path),
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
  if (sub) {
    const early = releaseEarlySignals();
    if (early.length > 0) return 128 + (SIGNAL_NUMBERS[early[0]!] ?? 0);
    return await sub.run(config);
  }
  return await track(config, { version: VERSION, env, warn });
}

if (import.meta.main) {
  captureEarlySignals();
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
