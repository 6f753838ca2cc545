/**
 * resource-tracker: samples a machine and (optionally) a job's process tree, writing JSON Lines
 * or CSV to sinks. This file only dispatches: parse, pick the subcommand (cli/, one file each;
 * tracking when none), run it, and turn what it throws into one line and an exit code.
 */
import denoJson from "./deno.json" with { type: "json" };
import { readSmallTextFile } from "./base/bounded_read.ts";
import { type Config, loadConfigLazily } from "./cli/config.ts";
import { captureEarlySignals, releaseEarlySignals } from "./core/early_signals.ts";
import { oneLine, RuntimeError, UsageError } from "./base/errors.ts";
import type { SubcommandHelp } from "./cli/help.ts";
import { error, warn, writeAllSync } from "./base/log.ts";
import { runTrackCommand } from "./cli/track.ts";
import { SIGNAL_NUMBERS } from "./core/supervisor.ts";

export const VERSION: string = denoJson.version;

interface Subcommand extends SubcommandHelp {
  run(config: Config): Promise<number>;
  /** Subcommands that parse their own arguments (report: `-o` is not `--output`). */
  raw?: (args: readonly string[]) => Promise<number>;
}

const env = (name: string) => Deno.env.get(name);

/** Subcommands, dispatched by the first word (see `splitArgs`). */
const SUBCOMMANDS: readonly Subcommand[] = [
  {
    name: "report",
    help: "Write an HTML report of a recorded run: charts, right-sizing, cost, energy.",
    run: () => Promise.resolve(2),
    raw: async (args) =>
      (await import("./cli/report.ts")).runReportCommand(args, { version: VERSION, env, warn }),
  },
  {
    name: "replay",
    help: "Send a recorded run to sinks (--sink URI…) with its original timestamps.",
    run: () => Promise.resolve(2),
    raw: async (args) =>
      (await import("./cli/replay.ts")).runReplayCommand(args, { version: VERSION, env, warn }),
  },
  {
    name: "flush",
    help: "Send what earlier runs left in the spool (undelivered batches) and exit.",
    details: [
      "Batches that an S3, HTTP or Sentinel sink could not deliver before a run ended are kept " +
      "in the spool directory. `flush` delivers them, in order, with the credentials in the " +
      "environment, and exits 0 when the spool is empty (1 when something is left).",
    ],
    options: [
      "list",
      "drop",
      "all-rejected",
      "spool-dir",
      "flush-timeout",
      "http-token-env",
      "config",
    ],
    examples: [["resource-tracker flush --spool-dir /var/spool/rt", "Deliver a spool:"]],
    run: async (config) => (await import("./cli/flush.ts")).flushCommand(config, env, warn),
  },
  {
    name: "host",
    help: "Print the host facts (CPU, memory, GPUs, storage) as JSON.",
    details: ["The facts Sentinel registers a run with, under its field names (host_vcpus, …)."],
    options: ["no-gpu", "nvidia-smi", "procfs", "sysfs", "rootfs", "config"],
    examples: [["resource-tracker host | jq .host_memory_mib", "Memory of this host:"]],
    run: async (config) => (await import("./cli/host.ts")).runHostCommand(config, warn),
  },
  {
    name: "cloud",
    help: "Detect the cloud provider (DMI, then metadata services) and print it as JSON.",
    details: [
      "DMI (/sys/class/dmi) names the vendor without a packet; otherwise the providers' " +
      "link-local metadata services are asked, in parallel, for at most 2.5 s. --no-cloud sends " +
      "nothing; --cloud ID asks one provider only.",
    ],
    options: ["cloud", "no-cloud", "sysfs", "config"],
    examples: [["resource-tracker cloud --cloud aws", "Ask only AWS:"]],
    run: async (config) => (await import("./cli/cloud.ts")).cloudCommand(config, env),
  },
];

/** `resource-tracker help [SUBCOMMAND]` (handled in `main`, before any subcommand runs). */
const HELP: Subcommand = {
  name: "help",
  help: "Show the help, or one subcommand's page (`help host`), and exit.",
  usage: "[SUBCOMMAND]",
  run: () => Promise.resolve(0),
};
const SUBCOMMANDS_ALL: readonly Subcommand[] = [...SUBCOMMANDS, HELP];
const NAMES = SUBCOMMANDS_ALL.map((s) => s.name);

/** A usage error (bad flags, values, files) is one line and exit code 2; others go on up. */
function usageExit(err: unknown): number {
  if (!(err instanceof UsageError)) throw err;
  error(err.message);
  return 2;
}

export async function main(args: readonly string[]): Promise<number> {
  const raw = SUBCOMMANDS.find((s) => s.raw && s.name === args[0]);
  if (raw) return await raw.raw!(args.slice(1)).catch(usageExit);
  let config: Config;
  try {
    config = await loadConfigLazily({
      args,
      env,
      subcommands: NAMES,
      readFile: (path) => readSmallTextFile(path),
      warn,
    });
  } catch (err) {
    return usageExit(err);
  }
  // `help [SUBCOMMAND]`, `SUBCOMMAND --help`, `--help`.
  if (config.help || config.subcommand === HELP.name) return await help(config);
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
  return await runTrackCommand(config, { version: VERSION, env, warn });
}

/** The help page, or one subcommand's (its module loads only here). */
async function help(config: Config): Promise<number> {
  const helpFor = config.subcommand === HELP.name ? config.command[0] : config.subcommand;
  const { helpText, helpWidth, subcommandHelpText } = await import("./cli/help.ts");
  const width = helpWidth();
  const sub = SUBCOMMANDS.find((s) => s.name === helpFor);
  if (sub?.raw) return await sub.raw(["--help"]); // `help report`: it parses its own flags
  if (helpFor && !sub && helpFor !== HELP.name) {
    error(`help: no subcommand "${helpFor}" (one of ${NAMES.join(", ")})`);
    return 2;
  }
  writeAllSync(
    Deno.stdout,
    sub ? subcommandHelpText(sub, width) : helpText(VERSION, SUBCOMMANDS_ALL, width),
  );
  return 0;
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
