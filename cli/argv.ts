/**
 * The command line, before any value is converted: where the tracker's flags end and the wrapped
 * command starts (`splitArgs`), and the flags by option name (`parseFlags`). cli/config.ts then
 * merges them with the variables and the TOML file (docs/ARCHITECTURE.md "Registries").
 */
import { UsageError } from "../base/errors.ts";
import { type OptionDef, OPTIONS } from "./options.ts";

export interface SplitArgs {
  subcommand: string | null;
  flags: string[];
  command: string[];
}

const BUILTIN_FLAGS: readonly OptionDef[] = [
  { name: "help", short: "h", type: "boolean", help: "Show this help and exit." },
  { name: "version", short: "V", type: "boolean", help: "Show the version and exit." },
];

function findOption(token: string, options: readonly OptionDef[]): OptionDef | undefined {
  if (token.startsWith("--")) {
    const name = token.slice(2).split("=")[0];
    return options.find((o) => o.name === name);
  }
  return options.find((o) => o.short === token[1]);
}

/**
 * Splits argv into a subcommand, tracker flags and the command to wrap. The command starts at
 * `--` or at the first word that is not a flag or a flag's value; a first word that names a
 * subcommand selects it instead (put `--` first to wrap a program of that name). Flags that take
 * a value are normalised to `--name=value` so values starting with `-` reach validation.
 */
export function splitArgs(
  args: readonly string[],
  subcommands: readonly string[],
  options: readonly OptionDef[] = OPTIONS,
): SplitArgs {
  const all = [...BUILTIN_FLAGS, ...options];
  const flags: string[] = [];
  let subcommand: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") return { subcommand, flags, command: args.slice(i + 1) };
    if (a.startsWith("-") && a !== "-") {
      const def = findOption(a, all);
      const takesValue = def !== undefined && def.type !== "boolean";
      const long = a.startsWith("--");
      if (!takesValue || (long && a.includes("="))) {
        flags.push(a);
      } else if (!long && a.length > 2) {
        flags.push(`--${def!.name}=${a.slice(2)}`); // -i5
      } else if (i + 1 < args.length) {
        flags.push(`--${def!.name}=${args[++i]}`);
      } else {
        throw new UsageError(`option --${def!.name} needs a value`);
      }
      continue;
    }
    if (subcommand === null && flags.length === 0 && subcommands.includes(a)) {
      subcommand = a;
      continue;
    }
    return { subcommand, flags, command: args.slice(i) };
  }
  return { subcommand, flags, command: [] };
}

/**
 * Parses the flags `splitArgs` normalised into raw values by option name: `--name=value`,
 * `--name` (booleans), and short booleans, alone or grouped (`-qh`). Repeatable options collect
 * arrays; otherwise the last one wins.
 *
 * Hand-written on purpose: splitArgs already does the hard part (where the wrapped command
 * starts, which no parser library knows), and node:util's parseArgs cost 15–20 ms of start-up
 * (loading any node: module starts Deno's Node layer), 10–20% of exec → command running.
 */
export function parseFlags(
  flags: readonly string[],
  options: readonly OptionDef[] = OPTIONS,
): Map<string, unknown> {
  const all = [...BUILTIN_FLAGS, ...options];
  const out = new Map<string, unknown>();
  const set = (o: OptionDef, value: string | true) => {
    if (o.type === "list" || o.type === "strings") {
      const list = (out.get(o.name) as unknown[] | undefined) ?? [];
      list.push(value);
      out.set(o.name, list);
    } else {
      out.set(o.name, value);
    }
  };
  for (const flag of flags) {
    if (flag.startsWith("--")) {
      const eq = flag.indexOf("=");
      const name = eq < 0 ? flag.slice(2) : flag.slice(2, eq);
      const o = findOption(flag, all);
      if (!o) throw new UsageError(`unknown option --${name} (see --help)`);
      if (o.type === "boolean") {
        if (eq >= 0) throw new UsageError(`option --${name} does not take a value`);
        set(o, true);
      } else {
        if (eq < 0) throw new UsageError(`option --${name} needs a value`);
        set(o, flag.slice(eq + 1));
      }
      continue;
    }
    for (const c of flag.slice(1)) {
      const o = findOption(`-${c}`, all);
      if (!o) throw new UsageError(`unknown option -${c} (see --help)`);
      if (o.type !== "boolean") {
        throw new UsageError(`option -${c} (--${o.name}) needs a value: give it on its own`);
      }
      set(o, true);
    }
  }
  return out;
}
