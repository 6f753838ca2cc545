import { deepStrictEqual, ok, strictEqual, throws } from "node:assert/strict";
import {
  buildConfig,
  loadConfig,
  parseBool,
  parseFlags,
  parseTag,
  planConfig,
  resolveValues,
  splitArgs,
} from "./config.ts";
import { UsageError } from "../base/errors.ts";
import * as TOML from "smol-toml";

const SUBS = ["host", "cloud"];

function load(
  args: string[],
  env: Record<string, string> = {},
  files: Record<string, string> = {},
) {
  const warnings: string[] = [];
  const config = loadConfig({
    args,
    env: (n) => env[n],
    subcommands: SUBS,
    readFile: (p) => {
      if (p in files) return files[p]!;
      throw new Deno.errors.NotFound(p);
    },
    warn: (l) => warnings.push(l),
    toml: TOML,
  });
  return { config, warnings };
}

function usage(fn: () => unknown, pattern: RegExp) {
  throws(fn, (err: unknown) => err instanceof UsageError && pattern.test(err.message));
}

Deno.test("splitArgs: command after --, positional command, subcommand, values normalised", () => {
  deepStrictEqual(splitArgs(["-i", "2", "--", "python", "-u", "x.py"], SUBS), {
    subcommand: null,
    flags: ["--interval=2"],
    command: ["python", "-u", "x.py"],
  });
  deepStrictEqual(splitArgs(["--quiet", "python", "-u", "--interval", "3"], SUBS).command, [
    "python",
    "-u",
    "--interval",
    "3",
  ]);
  deepStrictEqual(splitArgs(["host", "--procfs", "/p"], SUBS), {
    subcommand: "host",
    flags: ["--procfs=/p"],
    command: [],
  });
  deepStrictEqual(splitArgs(["--", "host"], SUBS).command, ["host"]);
  // A subcommand name after a flag is a command to wrap, not a subcommand.
  strictEqual(splitArgs(["-q", "host"], SUBS).subcommand, null);
  deepStrictEqual(splitArgs(["-i5"], SUBS).flags, ["--interval=5"]);
  deepStrictEqual(splitArgs(["--interval", "-1"], SUBS).flags, ["--interval=-1"]);
  usage(() => splitArgs(["--interval"], SUBS), /--interval needs a value/);
});

Deno.test("parseFlags: unknown options and values on booleans are one-line usage errors", () => {
  usage(() => parseFlags(["--frobnicate"]), /^unknown option --frobnicate/);
  usage(() => parseFlags(["--quiet=yes"]), /quiet/);
  deepStrictEqual(parseFlags(["--tag=a=1", "--tag=b=2"]).get("tag"), ["a=1", "b=2"]);
  usage(() => parseFlags(["-x"]), /^unknown option -x \(see --help\)$/);
  usage(() => parseFlags(["--interval"]), /^option --interval needs a value$/);
  // A value-taking short inside a group cannot take the next word: say so, do not guess.
  usage(() => parseFlags(["-qi"]), /^option -i \(--interval\) needs a value/);
});

Deno.test("parseFlags: grouped short booleans, last value wins, values kept verbatim", () => {
  const flags = parseFlags(["-qh", "--interval=2", "--interval=0.5", "--job-name=a=b --c"]);
  strictEqual(flags.get("quiet"), true);
  strictEqual(flags.get("help"), true);
  strictEqual(flags.get("interval"), "0.5");
  strictEqual(flags.get("job-name"), "a=b --c");
  strictEqual(flags.has("version"), false);
});

Deno.test("precedence: flag > env > TOML > default, per option", () => {
  const files = {
    "resource-tracker.toml": '[tracker]\ninterval_secs = 5\nformat = "csv"\n[job]\nname = "file"\n',
  };
  strictEqual(load([], {}, files).config.interval, 5);
  strictEqual(load([], { TRACKER_INTERVAL: "3" }, files).config.interval, 3);
  strictEqual(load(["-i", "0.5"], { TRACKER_INTERVAL: "3" }, files).config.interval, 0.5);
  strictEqual(load([]).config.interval, 1);
  strictEqual(load([], {}, files).config.format, "csv");
  strictEqual(load(["-f", "json"], {}, files).config.format, "json");
  strictEqual(load([], {}, files).config.metadata.job_name, "file");
  strictEqual(load([], { TRACKER_JOB_NAME: "env" }, files).config.metadata.job_name, "env");
  strictEqual(
    load(["-n", "cli"], { TRACKER_JOB_NAME: "env" }, files).config.metadata.job_name,
    "cli",
  );
  // An empty variable counts as unset.
  strictEqual(load([], { TRACKER_JOB_NAME: "" }, files).config.metadata.job_name, "file");
});

Deno.test("resolveValues is pure and names the source of a bad value", () => {
  const v = resolveValues({ cli: new Map(), env: () => undefined, toml: undefined, tomlName: "x" });
  strictEqual(v.get("interval"), 1);
  strictEqual(v.get("quiet"), false);
  usage(
    () =>
      resolveValues({
        cli: new Map(),
        env: () => undefined,
        toml: { tracker: { interval: "abc" } },
        tomlName: '"f.toml"',
      }),
    /^"f\.toml": tracker\.interval: expected seconds >= 0\.1/,
  );
});

Deno.test("tags merge per key: file < env < flags", () => {
  const files = { "resource-tracker.toml": '[job]\ntags = { team = "a", keep = "1" }\n' };
  const { config } = load(["--tag", "team=c"], { TRACKER_TAGS: "team=b,env=prod" }, files);
  deepStrictEqual(config.tags, { team: "c", keep: "1", env: "prod" });
  deepStrictEqual(
    load([], {}, { "resource-tracker.toml": '[job]\ntags = ["x=1", "y=2=3"]\n' }).config.tags,
    { x: "1", y: "2=3" },
  );
});

Deno.test("bad input is a usage error naming the flag, variable, file or line", () => {
  usage(() => load(["--interval", "0"]), /^--interval: expected seconds >= 0\.1, got "0"/);
  usage(() => load(["--interval", "abc"]), /^--interval: .*"abc"/);
  usage(() => load(["--interval", "-1"]), /^--interval: .*"-1"/);
  usage(() => load(["--format", "xml"]), /^--format: expected one of json, csv, got "xml"/);
  usage(() => load(["--tag", "novalue"]), /^--tag: expected KEY=VALUE, got "novalue"/);
  usage(() => load(["--tag", "=v"]), /^--tag: expected KEY=VALUE/);
  usage(() => load(["--pid", "abc"]), /^--pid: expected a process id/);
  usage(
    () => load(["--config", "missing.toml"]),
    /^cannot read config file "missing\.toml": no such file/,
  );
  usage(() => load([], { TRACKER_CONFIG: "gone.toml" }), /"gone\.toml": no such file/);
  usage(() => load([], { TRACKER_QUIET: "maybe" }), /^TRACKER_QUIET: expected 1\/true\/yes\/on/);
  usage(
    () =>
      load(["-c", "bad.toml"], {}, { "bad.toml": "[tracker]\ninterval = 1\nthis is not toml\n" }),
    /^cannot parse "bad\.toml" line 3: /,
  );
  usage(
    () => load([], {}, { "resource-tracker.toml": "[tracker]\nquiet = 3\n" }),
    /tracker\.quiet: expected true or false/,
  );
});

Deno.test("the default config file is optional; unknown keys warn once each", () => {
  const { config, warnings } = load([], {}, {
    "resource-tracker.toml": '[job]\nname = "j"\nfoo = 1\n[other]\nx = 1\n',
  });
  strictEqual(config.configFile, "resource-tracker.toml");
  deepStrictEqual(warnings, [
    'unknown key "job.foo" in "resource-tracker.toml" ignored',
    'unknown key "other" in "resource-tracker.toml" ignored',
  ]);
  strictEqual(load([]).config.configFile, null);
});

Deno.test("boolean variables accept the documented spellings", () => {
  for (const t of ["1", "true", "YES", "On"]) strictEqual(parseBool(t), true);
  for (const f of ["0", "false", "No", "OFF"]) strictEqual(parseBool(f), false);
  strictEqual(parseBool("2"), undefined);
  strictEqual(load([], { TRACKER_QUIET: "1" }).config.quiet, true);
  strictEqual(load(["--quiet"], { TRACKER_QUIET: "0" }).config.quiet, true);
});

Deno.test("roots, pid and output come through every layer", () => {
  const { config } = load(["--procfs", "/host/proc"], {
    TRACKER_SYSFS: "/host/sys",
    TRACKER_OUTPUT: "out.jsonl",
  }, {
    "resource-tracker.toml": "[job]\npid = 42\n",
  });
  deepStrictEqual(config.roots, { proc: "/host/proc", sys: "/host/sys", root: "/" });
  strictEqual(config.pid, 42);
  strictEqual(config.output, "out.jsonl");
  ok(Object.isFrozen(config));
  deepStrictEqual(parseTag("a=b=c"), ["a", "b=c"]);
});

Deno.test("planConfig reads the file once; buildConfig needs a parser only when there is text", () => {
  let reads = 0;
  const o = {
    args: ["-c", "rt.toml"],
    env: () => undefined,
    subcommands: SUBS,
    readFile: () => (reads++, "[tracker]\ninterval = 2\n"),
    warn: () => {},
  };
  const plan = planConfig(o);
  strictEqual(plan.path, "rt.toml");
  strictEqual(reads, 1);
  throws(() => buildConfig(plan, o), /TOML parser/);
  strictEqual(buildConfig(plan, { ...o, toml: TOML }).interval, 2);
  strictEqual(reads, 1);
  const none = planConfig({
    ...o,
    args: [],
    readFile: (p) => {
      throw new Deno.errors.NotFound(p);
    },
  });
  strictEqual(none.text, undefined);
  strictEqual(buildConfig(none, o).configFile, null);
});
