/**
 * Configuration: argv + environment + TOML file → one frozen Config. Precedence is one pure
 * function (`resolveValues`): CLI flag > environment variable > TOML file > default.
 */
import type * as Toml from "smol-toml";
import type { Format } from "../formats/mod.ts";
import { errorText, UsageError } from "../base/errors.ts";
import { METADATA_KEYS, type OptionDef, OPTIONS } from "./options.ts";
import { parseFlags, type SplitArgs, splitArgs } from "./argv.ts";

export { parseFlags, type SplitArgs, splitArgs } from "./argv.ts";
import type { Roots } from "../base/sample.ts";

export type Metadata = Record<string, string | null>;

export interface Config {
  /** A subcommand such as `host` or `cloud`, or null for tracking. */
  readonly subcommand: string | null;
  /** The command to wrap (empty: system-only or attach mode). */
  readonly command: readonly string[];
  readonly help: boolean;
  readonly version: boolean;
  readonly interval: number;
  /** Stop after this many samples (null: until stopped). */
  readonly samples: number | null;
  readonly pid: number | null;
  readonly format: Format;
  readonly output: string | null;
  readonly quiet: boolean;
  /** The TOML file that was read, if any. */
  readonly configFile: string | null;
  /** Run metadata keyed by snake_case name (`job_name`, `project_name`, …). */
  readonly metadata: Readonly<Metadata>;
  readonly tags: Readonly<Record<string, string>>;
  readonly roots: Roots;
  /** Every resolved option by name, for modules that add their own options. */
  readonly values: ReadonlyMap<string, unknown>;
}

export type Env = (name: string) => string | undefined;

const TRUE = ["1", "true", "yes", "on"];
const FALSE = ["0", "false", "no", "off"];

export function parseBool(raw: string): boolean | undefined {
  const s = raw.trim().toLowerCase();
  if (TRUE.includes(s)) return true;
  if (FALSE.includes(s)) return false;
  return undefined;
}

/** `KEY=VALUE` → [key, value]; the key must be non-empty. */
export function parseTag(raw: string): [string, string] {
  const eq = raw.indexOf("=");
  if (eq <= 0) throw new Error(`expected KEY=VALUE, got ${JSON.stringify(raw)}`);
  return [raw.slice(0, eq).trim(), raw.slice(eq + 1)];
}

type TomlTable = Record<string, unknown>;

function tomlGet(table: TomlTable, dotted: string): unknown {
  let node: unknown = table;
  for (const part of dotted.split(".")) {
    if (node === null || typeof node !== "object" || Array.isArray(node)) return undefined;
    node = (node as TomlTable)[part];
  }
  return node;
}

/** Keys of a parsed TOML file that no option knows, as dotted paths. */
function unknownTomlKeys(
  table: TomlTable,
  options: readonly OptionDef[] = OPTIONS,
): string[] {
  const known = new Set(options.flatMap((o) => o.toml ?? []));
  const sections = new Set([...known].map((k) => k.split(".")[0]!));
  const out: string[] = [];
  for (const [section, value] of Object.entries(table)) {
    if (
      !sections.has(section) || value === null || typeof value !== "object" || Array.isArray(value)
    ) {
      if (!known.has(section)) out.push(section);
      continue;
    }
    for (const key of Object.keys(value as TomlTable)) {
      if (!known.has(`${section}.${key}`)) out.push(`${section}.${key}`);
    }
  }
  return out;
}

/** Converts one raw value from any source to the option's type, or throws a plain message. */
function convert(o: OptionDef, raw: unknown): unknown {
  let value: unknown = raw;
  switch (o.type) {
    case "boolean":
      if (typeof raw === "string") {
        value = parseBool(raw);
        if (value === undefined) {
          throw new Error(`expected 1/true/yes/on or 0/false/no/off, got ${JSON.stringify(raw)}`);
        }
      } else if (typeof raw !== "boolean") throw new Error("expected true or false");
      break;
    case "number":
    case "integer":
      if (typeof raw !== "number" && typeof raw !== "string") throw new Error("expected a number");
      break;
    case "string":
      if (typeof raw !== "string") throw new Error("expected a string");
      break;
    case "strings":
      if (Array.isArray(raw)) value = raw.map(String);
      else if (typeof raw === "string") value = raw.split(",").map((x) => x.trim()).filter(Boolean);
      else throw new Error("expected a list of strings");
      break;
    case "list": {
      // Tags: CLI/env give "k=v" strings; TOML gives a table or an array of "k=v" strings.
      const pairs: [string, string][] = [];
      if (Array.isArray(raw)) {
        for (const item of raw) pairs.push(parseTag(String(item)));
      } else if (raw !== null && typeof raw === "object") {
        for (const [k, v] of Object.entries(raw as TomlTable)) pairs.push([k, String(v)]);
      } else if (typeof raw === "string") {
        for (const item of raw.split(",")) if (item.trim() !== "") pairs.push(parseTag(item));
      } else throw new Error("expected a table of tags or a list of KEY=VALUE");
      value = pairs;
      break;
    }
  }
  return o.check ? o.check(value) : value;
}

export interface Sources {
  cli: ReadonlyMap<string, unknown>;
  env: Env;
  toml: TomlTable | undefined;
  /** How to name the TOML file in errors. */
  tomlName: string;
}

/**
 * Precedence, pure: for each option the CLI value wins, then its environment variable, then
 * the TOML file, then the default. Tags merge per key in the same order. Invalid values are
 * usage errors naming the flag, variable or file key they came from.
 */
export function resolveValues(
  src: Sources,
  options: readonly OptionDef[] = OPTIONS,
): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const o of options) {
    const layers: [string, unknown][] = [];
    if (o.default !== undefined) layers.push(["default", o.default]);
    if (src.toml && !o.cliOnly) {
      for (const key of o.toml ?? []) {
        const v = tomlGet(src.toml, key);
        if (v !== undefined) {
          layers.push([`${src.tomlName}: ${key}`, v]);
          break;
        }
      }
    }
    const envRaw = o.env ? src.env(o.env) : undefined;
    if (o.env && envRaw !== undefined && envRaw !== "") layers.push([o.env, envRaw]);
    if (src.cli.has(o.name)) layers.push([`--${o.name}`, src.cli.get(o.name)]);
    const convertAt = (where: string, raw: unknown) => {
      try {
        return convert(o, raw);
      } catch (err) {
        throw new UsageError(`${where}: ${errorText(err)}`);
      }
    };
    if (o.type === "list") {
      const merged = new Map<string, string>();
      for (const [where, raw] of layers) {
        for (const [k, v] of convertAt(where, raw) as [string, string][]) merged.set(k, v);
      }
      out.set(o.name, merged);
    } else if (layers.length > 0) {
      const [where, raw] = layers[layers.length - 1]!;
      out.set(o.name, convertAt(where, raw));
    }
  }
  return out;
}

/** The TOML parser module, injected: importing it costs ~10 ms of start-up (`loadConfigLazily`). */
export type TomlParser = Pick<typeof Toml, "parse" | "TomlError">;

/** Parses TOML text; a syntax error is a usage error naming the file and line. */
function parseTomlText(parser: TomlParser, text: string, name: string): TomlTable {
  try {
    return parser.parse(text) as TomlTable;
  } catch (err) {
    if (err instanceof parser.TomlError) {
      const reason = err.message.split("\n")[0]!.replace(/^Invalid TOML document: /, "");
      throw new UsageError(`cannot parse "${name}" line ${err.line}: ${reason}`);
    }
    throw new UsageError(`cannot parse "${name}": ${errorText(err)}`);
  }
}

export interface LoadOptions {
  args: readonly string[];
  env: Env;
  subcommands: readonly string[];
  readFile: (path: string) => string;
  warn: (line: string) => void;
  options?: readonly OptionDef[];
  /** Needed only when a config file exists (`loadConfigLazily` imports it then). */
  toml?: TomlParser;
}

/**
 * The first phase of loading: argv split and parsed, the config file found and read once.
 * Whether `text` is set tells the caller whether to load a TOML parser for `buildConfig`.
 */
export interface ConfigPlan {
  readonly split: SplitArgs;
  readonly cli: ReadonlyMap<string, unknown>;
  readonly options: readonly OptionDef[];
  /** The config file's path (the default one even when absent). */
  readonly path: string;
  /** Its text; undefined when the default file is absent. */
  readonly text: string | undefined;
}

/** argv + env → the plan; reads the config file (the only impure part, `readFile` injected). */
export function planConfig(o: Omit<LoadOptions, "toml" | "warn">): ConfigPlan {
  const options = o.options ?? OPTIONS;
  const split = splitArgs(o.args, o.subcommands, options);
  const cli = parseFlags(split.flags, options);
  const explicit = (cli.get("config") as string | undefined) ?? nonEmpty(o.env("TRACKER_CONFIG"));
  const path = explicit ?? "resource-tracker.toml";
  let text: string | undefined;
  try {
    text = o.readFile(path);
  } catch (err) {
    const missing = err instanceof Deno.errors.NotFound;
    if (explicit !== undefined || !missing) {
      const why = missing ? "no such file" : errorText(err);
      throw new UsageError(`cannot read config file "${path}": ${why}`);
    }
  }
  return { split, cli, options, path, text };
}

/** The plan + env (+ the TOML parser when the plan has a file's text) → Config. */
export function buildConfig(
  plan: ConfigPlan,
  o: { env: Env; warn: (line: string) => void; toml?: TomlParser | undefined },
): Config {
  const { split, cli, options, path, text } = plan;
  let toml: TomlTable | undefined;
  if (text !== undefined) {
    if (!o.toml) throw new Error(`a TOML parser is needed to read "${path}"`);
    toml = parseTomlText(o.toml, text, path);
    for (const key of unknownTomlKeys(toml, options)) {
      o.warn(`unknown key "${key}" in "${path}" ignored`);
    }
  }
  const values = resolveValues({ cli, env: o.env, toml, tomlName: `"${path}"` }, options);
  const str = (name: string) => (values.get(name) as string | undefined) ?? null;
  const metadata: Metadata = {};
  for (const key of METADATA_KEYS) metadata[key] = str(key.replaceAll("_", "-"));
  const output = str("output");
  return Object.freeze({
    subcommand: split.subcommand,
    command: Object.freeze([...split.command]),
    help: cli.get("help") === true,
    version: cli.get("version") === true,
    interval: values.get("interval") as number,
    samples: (values.get("samples") as number | undefined) ?? null,
    pid: (values.get("pid") as number | undefined) ?? null,
    format: values.get("format") as Format,
    output,
    quiet: values.get("quiet") === true,
    configFile: text !== undefined ? path : null,
    metadata: Object.freeze(metadata),
    tags: Object.freeze(Object.fromEntries(values.get("tag") as Map<string, string>)),
    roots: Object.freeze({
      proc: values.get("procfs") as string,
      sys: values.get("sysfs") as string,
      root: values.get("rootfs") as string,
    }),
    values,
  });
}

/** argv + env + file → Config, in one call (tests, and callers that hold a TOML parser). */
export function loadConfig(o: LoadOptions): Config {
  return buildConfig(planConfig(o), o);
}

/**
 * `loadConfig` for the CLI: the TOML parser (~10 ms of start-up) is imported only when a config
 * file exists, so runs without one (most) do not pay for loading it.
 */
export async function loadConfigLazily(o: Omit<LoadOptions, "toml">): Promise<Config> {
  const plan = planConfig(o);
  const toml = plan.text !== undefined ? await import("smol-toml") : undefined;
  return buildConfig(plan, { ...o, toml });
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === "" ? undefined : s;
}
