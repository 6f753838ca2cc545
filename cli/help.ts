/**
 * `--help` text, generated from the option registry so it never drifts from the parser: options
 * in groups, wrapped to the terminal (at most 100 columns), examples, the credential variables,
 * and a page per subcommand (`resource-tracker help host`, `resource-tracker host --help`).
 */
import { type OptionDef, OPTIONS } from "./options.ts";

export interface SubcommandHelp {
  readonly name: string;
  /** One line for the overview. */
  readonly help: string;
  /** What follows the name in the usage line, e.g. `[OPTIONS]`. */
  readonly usage?: string;
  /** Paragraphs for its own page. */
  readonly details?: readonly string[];
  /** The options it reads (long names). */
  readonly options?: readonly string[];
  readonly examples?: readonly (readonly [string, string])[];
}

const MAX_WIDTH = 100;

/** Columns to wrap at: the terminal's (40–100), else $COLUMNS (40–100), else 100. */
export function helpWidth(
  stdout: { isTerminal(): boolean } = Deno.stdout,
  size: () => { columns: number } = Deno.consoleSize,
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): number {
  let cols = NaN;
  if (stdout.isTerminal()) {
    try {
      cols = size().columns;
    } catch { /* not a real console */ }
  }
  if (!Number.isFinite(cols)) cols = Number(env("COLUMNS"));
  if (!Number.isFinite(cols) || cols <= 0) cols = MAX_WIDTH;
  return Math.max(40, Math.min(MAX_WIDTH, Math.floor(cols)));
}

/** Words of `text` in lines of at most `width` columns; a word longer than that stands alone. */
export function wrap(text: string, width: number, indent = 0, first = indent): string[] {
  const lines: string[] = [];
  let line = " ".repeat(first);
  let empty = true;
  for (const word of text.split(/[ \t\n]+/).filter(Boolean)) {
    if (!empty && line.length + 1 + word.length > width) {
      lines.push(line);
      line = " ".repeat(indent) + word;
    } else {
      line += (empty ? "" : " ") + word;
    }
    empty = false;
  }
  lines.push(line);
  return lines;
}

/** Option groups, in the order shown; an option in none is shown under "Other options". */
export const GROUPS: readonly (readonly [string, readonly string[]])[] = [
  ["Sampling", ["interval", "samples", "pid", "config"]],
  ["Tracking a job", ["cgroup", "memory-max", "cpu-max", "wait-descendants"]],
  ["Output and sinks", [
    "format",
    "output",
    "quiet",
    "no-summary",
    "summary-json",
    "sink",
    "max-size",
    "max-files",
    "upload-interval",
    "spool-dir",
    "flush-timeout",
    "http-token-env",
    "list",
    "drop",
    "all-rejected",
  ]],
  ["Live view and metrics", ["live", "listen"]],
  ["Job metadata (sent with the run; `job_name` is in every sample)", [
    "project-name",
    "job-name",
    "stage-name",
    "task-name",
    "team",
    "env",
    "language",
    "orchestrator",
    "executor",
    "external-run-id",
    "container-image",
    "tag",
  ]],
  ["Cloud and GPU", ["no-cloud", "cloud", "no-gpu", "nvidia-smi"]],
  ["Cost and energy (run summary, report)", [
    "price-per-hour",
    "price-table",
    "currency",
    "price-per-kwh",
    "grid-intensity",
    "vcpu-watts",
  ]],
  ["Containers (host-wide views from inside one)", ["procfs", "sysfs", "rootfs"]],
];

const FLAG_COLUMN = 28;
const NBSP = "\u00a0";

function flagOf(o: Pick<OptionDef, "short" | "name" | "metavar">): string {
  return `${o.short ? `-${o.short}, ` : "    "}--${o.name}${o.metavar ? ` ${o.metavar}` : ""}`;
}

function optionLines(o: OptionDef, width: number): string[] {
  // "env NAME" and "default VALUE" are kept on one line (joined by NBSP while wrapping).
  const extra = [
    o.env ? `env${NBSP}${o.env}` : "",
    o.default !== undefined && o.default !== false ? `default${NBSP}${o.default}` : "",
  ].filter(Boolean).join("; ");
  const text = `${o.help}${extra ? ` [${extra}]` : ""}`;
  const flag = `  ${flagOf(o)}`;
  const indent = width - FLAG_COLUMN >= 30 ? FLAG_COLUMN : 8;
  const body = wrap(text, width, indent, indent).map((l) => l.replaceAll(NBSP, " "));
  if (flag.length < indent - 1) {
    return [flag.padEnd(indent) + body[0]!.trimStart(), ...body.slice(1)];
  }
  return [flag, ...body];
}

function section(title: string, lines: string[], width = MAX_WIDTH): string[] {
  return [...wrap(title + ":", width), ...lines, ""];
}

function examples(list: readonly (readonly [string, string])[], width: number): string[] {
  return list.flatMap((
    [cmd, what],
  ) => [...wrap(what, width, 2, 2).map((l) => `${l}`), `    ${cmd}`]);
}

const BUILTINS: readonly OptionDef[] = [
  { name: "help", short: "h", type: "boolean", help: "Show this help and exit." },
  { name: "version", short: "V", type: "boolean", help: "Show the version and exit." },
];

export const CREDENTIALS: readonly (readonly [string, string])[] = [
  [
    "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN",
    "S3 sinks (s3://BUCKET/PREFIX): static keys, signed with SigV4.",
  ],
  ["AWS_REGION, AWS_DEFAULT_REGION", "Region of the S3 bucket."],
  [
    "AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL",
    "Another S3 endpoint (e.g. MinIO).",
  ],
  [
    "SENTINEL_API_TOKEN (or SENTINEL_API_KEY)",
    "Stream the run to SpareCores Sentinel; SENTINEL_API_URL overrides its address.",
  ],
  [
    "TRACKER_HTTP_TOKEN",
    "Bearer token for http(s) sinks (another variable: --http-token-env NAME).",
  ],
];

const TRACK_EXAMPLES: readonly (readonly [string, string])[] = [
  ["resource-tracker --samples 1 -o - | jq .memory", "One snapshot of the system:"],
  [
    "resource-tracker -f csv -o run.csv -i 0.5 -- make -j8",
    "A build, sampled every 0.5 s, as CSV:",
  ],
  ["resource-tracker --pid 4242 -o job.jsonl", "Attach to a running process tree:"],
  [
    "resource-tracker -n train --tag team=ml --sink s3://bucket/runs -- python train.py",
    "A named job, also uploaded to S3:",
  ],
  [
    "resource-tracker --procfs /host/proc --sysfs /host/sys --rootfs /host",
    "The host, from a container with its /proc, /sys and / mounted under /host:",
  ],
];

export function helpText(
  version: string,
  subcommands: readonly SubcommandHelp[],
  width: number = MAX_WIDTH,
  options: readonly OptionDef[] = OPTIONS,
): string {
  const para = (t: string) => wrap(t, width);
  const grouped = new Set(GROUPS.flatMap(([, names]) => names));
  const groups: [string, OptionDef[]][] = GROUPS.map(([title, names]) => [
    title,
    names.map((n) => options.find((o) => o.name === n)).filter((o): o is OptionDef => !!o),
  ]);
  const other = options.filter((o) => !grouped.has(o.name));
  if (other.length > 0) groups.push(["Other options", other]);
  groups.push(["General", [...BUILTINS]]);
  return [
    ...para(`resource-tracker ${version} — what did this job really use?`),
    "",
    ...section(
      "Usage",
      [
        "  resource-tracker [OPTIONS]                    the whole system, until Ctrl-C",
        "  resource-tracker [OPTIONS] -- COMMAND [ARGS]  run COMMAND, track it and its children",
        "  resource-tracker [OPTIONS] --pid PID          track a running process tree",
        "  resource-tracker SUBCOMMAND [OPTIONS]         see `resource-tracker help SUBCOMMAND`",
      ].map((l) => l.length <= width ? l : l.replace(/ {2,}.*$/, "")),
    ),
    ...para(
      "The command to wrap is everything after `--`, or the words from the first one that is " +
        "not an option. A first word that names a subcommand runs it; to wrap a program with " +
        "such a name, put `--` before it (`resource-tracker -- host`).",
    ),
    "",
    ...para(
      "Samples go to stderr by default, so the wrapped command keeps stdout. Precedence: flag > " +
        "environment variable > TOML file > default. Boolean variables accept 1/true/yes/on and " +
        "0/false/no/off.",
    ),
    "",
    ...section(
      "Subcommands",
      subcommands.flatMap((s) => {
        const body = wrap(s.help, width, 14, 14);
        return [`  ${s.name.padEnd(11)} ${body[0]!.trimStart()}`, ...body.slice(1)];
      }),
    ),
    ...groups.flatMap(([title, list]) =>
      section(title, list.flatMap((o) => optionLines(o, width)), width)
    ),
    ...section(
      "Credentials (environment only; never printed)",
      CREDENTIALS.flatMap(([names, what]) => [
        ...wrap(names, width, 4, 2),
        ...wrap(what, width, 6, 6),
      ]),
      width,
    ),
    ...section("Examples", examples(TRACK_EXAMPLES, width)),
  ].join("\n");
}

/** The page of one subcommand. */
export function subcommandHelpText(
  sub: SubcommandHelp,
  width: number = MAX_WIDTH,
  options: readonly OptionDef[] = OPTIONS,
): string {
  const own = (sub.options ?? []).map((n) => options.find((o) => o.name === n))
    .filter((o): o is OptionDef => !!o);
  return [
    ...wrap(`resource-tracker ${sub.name} — ${sub.help}`, width),
    "",
    ...section("Usage", [`  resource-tracker ${sub.name} ${sub.usage ?? "[OPTIONS]"}`]),
    ...(sub.details ?? []).flatMap((p) => [...wrap(p, width), ""]),
    ...(own.length > 0
      ? section("Options", [...own, BUILTINS[0]!].flatMap((o) => optionLines(o, width)))
      : []),
    ...(sub.examples?.length ? section("Examples", examples(sub.examples, width)) : []),
    ...wrap("All options: resource-tracker --help", width),
    "",
  ].join("\n");
}
