/** `--help` text, generated from the option registry so it never drifts from the parser. */
import { OPTIONS } from "./options.ts";

export function helpText(version: string, subcommands: readonly [string, string][]): string {
  const rows = OPTIONS.map((o) => {
    const flag = `${o.short ? `-${o.short}, ` : "    "}--${o.name}${
      o.metavar ? ` ${o.metavar}` : ""
    }`;
    const extra = [
      o.env ? `env ${o.env}` : "",
      o.default !== undefined && o.default !== false ? `default ${o.default}` : "",
    ].filter(Boolean).join("; ");
    return `  ${flag.padEnd(34)} ${o.help}${extra ? ` [${extra}]` : ""}`;
  });
  return [
    `resource-tracker ${version} — what did this job really use?`,
    "",
    "Usage:",
    "  resource-tracker [OPTIONS]                     sample the whole system until SIGINT/SIGTERM",
    "  resource-tracker [OPTIONS] -- COMMAND [ARGS]   run COMMAND and track it and its descendants",
    "  resource-tracker [OPTIONS] --pid PID           track an existing process tree",
    "  resource-tracker SUBCOMMAND [OPTIONS]",
    "",
    "The command to wrap is everything after `--`, or the words from the first one that is not",
    "an option. A first word that names a subcommand runs it; to wrap a program with such a",
    "name, put `--` before it (`resource-tracker -- host`).",
    "",
    "Subcommands:",
    ...subcommands.map(([name, help]) => `  ${name.padEnd(10)} ${help}`),
    "",
    "Options (flag > environment variable > TOML file > default):",
    ...rows,
    `  -h, --help${" ".repeat(25)}Show this help and exit.`,
    `  -V, --version${" ".repeat(22)}Show the version and exit.`,
    "",
    "Samples go to stderr by default, so the wrapped command keeps stdout.",
    "Boolean variables accept 1/true/yes/on and 0/false/no/off.",
    "",
  ].join("\n");
}
