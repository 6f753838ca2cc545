/**
 * Fuzzing: bad input never escapes as an uncaught exception. Seeded (mulberry32) so a failure
 * replays: `FUZZ_SEED=<seed> FUZZ_RUNS=<n> deno test -A tests/fuzz_test.ts`. Every assertion
 * message names the seed and the case index.
 *
 * Three layers: `loadConfig` on garbled argv / env / TOML (a Config or a one-line UsageError),
 * every pure parser on garbled real samples (a value, never a throw, finite numbers), and a few
 * spawns of the real CLI (exit 0/1/2, at most one `error:` line, no stack frames).
 */
import { ok } from "node:assert/strict";
import { loadConfig } from "../cli/config.ts";
import * as TOML from "smol-toml";
import { envInt, type Rng, rngFor, SEED } from "./seeded.ts";
import { UsageError } from "../base/errors.ts";
import { OPTIONS } from "../cli/options.ts";
import { parseCpuMax, parseCpuStatUsage } from "../collectors/cgroup.ts";
import { parseProcStat } from "../collectors/cpu.ts";
import { parseDiskstats, parseMountinfo, parseProcMounts } from "../collectors/disk.ts";
import { parseCpuinfo } from "../collectors/host.ts";
import { parseMeminfo } from "../collectors/memory.ts";
import { parseNetDev } from "../collectors/network.ts";
import {
  parseChildren,
  parseIo,
  parsePidStat,
  parseSmapsRollupPss,
  parseStatusRss,
} from "../collectors/process.ts";
import { parseFdinfo, parseSize } from "../collectors/gpu/amd_fdinfo.ts";
import { parseDpmSclk, parsePciSlot } from "../collectors/gpu/amd_sysfs.ts";
import { decodeGpuMetrics } from "../collectors/gpu/gpu_metrics.ts";
import { parseComputeApps, parsePmon, parseQueryGpu } from "../collectors/gpu/nvidia_smi_parse.ts";
import * as nvml from "../collectors/gpu/nvml_decode.ts";
import { fixtureArgs, FIXTURES, runCli } from "./helpers.ts";

// ---------------------------------------------------------------------------------------------
// Seeded randomness

/** Cases per in-process fuzz test (the CLI test runs a fixed handful). */
const RUNS = envInt("FUZZ_RUNS", 1000);

const where = (rng: Rng, i: number) => `FUZZ_SEED=${SEED} (stream ${rng.seed}) case ${i}`;

// ---------------------------------------------------------------------------------------------
// Garbling

/** Replaces invalid UTF-8, as Deno.readTextFileSync does. */
const decoder = new TextDecoder();

/** Without C0 controls and DEL: argv and env cannot hold NUL; line breaks have their own test. */
function printable(s: string): string {
  return [...s].filter((c) => c.charCodeAt(0) >= 0x20 && c !== "\x7f").join("");
}

/** Numerals that stay finite when parsed (the overflow ones are a separate test). */
const ODD_NUMBERS = [
  "0",
  "-0",
  "-1",
  "-999999",
  "1.5",
  "0.0001",
  ".5",
  "1e3",
  "1e-7",
  "0x1F",
  "0b101",
  "9007199254740993",
  "18446744073709551615",
  "NaN",
  "nan",
  "+7",
  "1_000",
  "١٢٣", // Arabic-Indic digits
  "",
];
/** Numerals that overflow a double or spell infinity. */
const OVERFLOW_NUMBERS = ["1e309", "-1e309", "Infinity", "-Infinity", "9".repeat(400)];

const ODD_STRINGS = [
  "",
  " ",
  "=",
  "==",
  "--",
  "-",
  "\t",
  "ü",
  "日本語",
  "💥",
  "e\u0301",
  "\u200b",
  "\ufeff",
  "[]",
  "{}",
  '"',
  "'",
  "\\",
  "#",
  "[N/A]",
  "N/A",
  "x".repeat(2000),
];

function randomText(rng: Rng, max: number): string {
  const n = rng.int(max);
  switch (rng.int(3)) {
    case 0:
      return decoder.decode(rng.bytes(n));
    case 1: { // printable ASCII
      let s = "";
      for (let i = 0; i < n; i++) s += String.fromCharCode(32 + rng.int(95));
      return s;
    }
    default: { // unicode code points, no lone surrogates (argv and files cannot hold them)
      let s = "";
      for (let i = 0; i < n; i++) {
        const cp = rng.chance(0.7) ? 32 + rng.int(0x2FF) : 0x3000 + rng.int(0x1C000);
        s += String.fromCodePoint(cp >= 0xD800 && cp <= 0xDFFF ? 0x41 : cp);
      }
      return s;
    }
  }
}

/** One random mutation of a text that looks like its pseudo-file. */
function mutateText(rng: Rng, text: string, numbers: readonly string[]): string {
  const lines = text.split("\n");
  switch (rng.int(14)) {
    case 0: // truncated at any byte
      return text.slice(0, rng.int(text.length + 1));
    case 1: { // byte flips
      const b = new TextEncoder().encode(text);
      for (let k = 0, n = rng.range(1, 8); k < n && b.length > 0; k++) {
        {
          const at = rng.int(b.length);
          b[at] = b[at]! ^ (1 << rng.int(8));
        }
      }
      return decoder.decode(b);
    }
    case 2: // a line deleted
      lines.splice(rng.int(lines.length), 1);
      return lines.join("\n");
    case 3: // a line duplicated
      lines.splice(rng.int(lines.length), 0, rng.pick(lines));
      return lines.join("\n");
    case 4: // a garbage line inserted
      lines.splice(rng.int(lines.length + 1), 0, randomText(rng, 120));
      return lines.join("\n");
    case 5: // numbers replaced by odd numerals
      return text.replace(/\d+/g, (m) => (rng.chance(0.2) ? rng.pick(numbers) : m));
    case 6: // whitespace changed
      return text.replace(/[ \t]+/g, () => rng.pick(["", " ", "\t", "  ", " \t "]));
    case 7: // CRLF / CR line ends
      return text.replaceAll("\n", rng.pick(["\r\n", "\r", "\n\n"]));
    case 8: // lines shuffled
      for (let i = lines.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      }
      return lines.join("\n");
    case 9: // random bytes
      return decoder.decode(rng.bytes(rng.int(400)));
    case 10: // empty or blank
      return rng.pick(["", "\n", " ", "\0", "\n\n\n"]);
    case 11: // a line cut short
    {
      const i = rng.int(lines.length);
      lines[i] = lines[i]!.slice(0, rng.int(lines[i]!.length + 1));
      return lines.join("\n");
    }
    case 12: // tokens replaced by odd strings
      return text.replace(/\S+/g, (m) => (rng.chance(0.1) ? rng.pick(ODD_STRINGS) : m));
    default: // repeated on new lines (big input)
      return Array(rng.range(2, 20)).fill(text).join("\n");
  }
}

/** 1–3 stacked mutations. */
function garble(rng: Rng, text: string, numbers: readonly string[] = ODD_NUMBERS): string {
  let out = text;
  for (let k = 0, n = rng.range(1, 3); k < n; k++) out = mutateText(rng, out, numbers);
  return out;
}

// ---------------------------------------------------------------------------------------------
// In-process: loadConfig

const VALID_TOML = `# resource-tracker.toml
[tracker]
interval = 0.5
samples = 10
format = "json"
output = "out.jsonl"
quiet = false
no_summary = true
procfs = "/proc"

[job]
name = "train"
pid = 4242
project_name = "p"
team = "ml"
tags = { env = "dev", owner = "me" }

[cloud]
disabled = true
provider = "aws"

[gpu]
disabled = false
nvidia_smi = "/usr/bin/nvidia-smi"
`;

const TOML_WRONG_VALUES = [
  "0",
  "-1",
  "1e309",
  "inf",
  "nan",
  "true",
  '""',
  '"x"',
  "[1, 2]",
  '["a=b", "c"]',
  "{ a = 1 }",
  "{ a = { b = 1 } }",
  "1979-05-27T07:32:00Z",
  "07:32:00",
  "0x7FFFFFFFFFFFFFFF",
  "9223372036854775807",
  "'''\nmulti\nline'''",
  '"\\u00e9"',
  "[[1], [2]]",
];

function garbleToml(rng: Rng): string {
  const lines = VALID_TOML.split("\n");
  switch (rng.int(6)) {
    case 0: // a value of the wrong type
    {
      const i = rng.pick(lines.map((l, j) => (l.includes(" = ") ? j : -1)).filter((j) => j >= 0));
      lines[i] = lines[i]!.replace(/=.*$/, `= ${rng.pick(TOML_WRONG_VALUES)}`);
      return lines.join("\n");
    }
    case 1: // a duplicate key or table
    {
      const i = rng.int(lines.length);
      lines.splice(rng.int(lines.length + 1), 0, lines[i]!);
      return lines.join("\n");
    }
    case 2: // an unknown key / table / array of tables
      lines.splice(
        rng.int(lines.length + 1),
        0,
        rng.pick(["wat = 1", "[extra]", "[[tracker]]", "a.b.c = 1", "[tracker.deep]", "x=1=2"]),
      );
      return lines.join("\n");
    case 3: // deep nesting (parser recursion)
    {
      const d = rng.range(10, 2000);
      return `[tracker]\ninterval = ${"[".repeat(d)}${"]".repeat(rng.chance(0.5) ? d : 0)}\n`;
    }
    default:
      return garble(rng, VALID_TOML);
  }
}

const FLAG_VALUES = [
  ...ODD_NUMBERS,
  ...OVERFLOW_NUMBERS,
  ...ODD_STRINGS,
  "0.1",
  "1",
  "json",
  "csv",
  "xml",
  "k=v",
  "=v",
  "k=",
  "a=b,c=d",
  "aws",
  "/dev/null",
  "yes",
  "maybe",
  "4194305",
];

function randomArgv(rng: Rng): string[] {
  const out: string[] = [];
  const flagNames = [
    ...OPTIONS.map((o) => `--${o.name}`),
    ...OPTIONS.filter((o) => o.short).map((o) => `-${o.short}`),
    "--help",
    "-h",
    "--version",
    "-V",
  ];
  for (let k = 0, n = rng.int(7); k < n; k++) {
    switch (rng.int(12)) {
      case 0:
      case 1:
      case 2: // a known flag with a random value
        out.push(rng.pick(flagNames), rng.pick(FLAG_VALUES));
        break;
      case 3: // `--flag=value`
        out.push(`${rng.pick(flagNames)}=${rng.pick(FLAG_VALUES)}`);
        break;
      case 4: // a mutated flag name
        out.push(printable(mutateText(rng, rng.pick(flagNames), ODD_NUMBERS)));
        break;
      case 5: // a flag without its value (last) or a bare one
        out.push(rng.pick(flagNames));
        break;
      case 6: // clustered short flags
        out.push(`-${printable(randomText(rng, 4))}`);
        break;
      case 7: // separators and subcommands
        out.push(rng.pick(["--", "-", "=", "host", "cloud", "--=", "---", "-=", "--interval=="]));
        break;
      case 8: // random printable text
        out.push(printable(randomText(rng, 20)));
        break;
      case 9:
        out.push(rng.pick(ODD_STRINGS));
        break;
      case 10:
        out.push(`-i${rng.pick(FLAG_VALUES)}`);
        break;
      default:
        out.push(rng.pick(OVERFLOW_NUMBERS));
    }
  }
  return out;
}

const ENV_NAMES = [...new Set(OPTIONS.flatMap((o) => (o.env ? [o.env] : [])))];

function randomEnv(rng: Rng): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ENV_NAMES) {
    if (!rng.chance(0.15)) continue;
    env[name] = rng.chance(0.7) ? rng.pick(FLAG_VALUES) : printable(randomText(rng, 30));
  }
  return env;
}

/** Throws like Deno.readTextFileSync would for a few real failures. */
function realReadError(rng: Rng): never {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.readTextFileSync(rng.chance(0.5) ? dir : `${dir}/missing`);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
  throw new Error("unreachable");
}

/** Passes when `fn` returns, or throws a UsageError with one clean line; fails otherwise. */
function expectConfigOrUsage(fn: () => unknown, ctx: string) {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof UsageError)) {
      throw new Error(
        `${ctx}: ${err instanceof Error ? err.name : typeof err} escaped: ${
          err instanceof Error ? err.stack : String(err)
        }`,
      );
    }
    const msg = err.message;
    ok(msg.trim() !== "", `${ctx}: empty UsageError message`);
    ok(!/[\r\n]/.test(msg), `${ctx}: message is not one line: ${JSON.stringify(msg)}`);
    ok(!/\s+at \S+ \(?\S+:\d+:\d+\)?/.test(msg), `${ctx}: stack frame in message: ${msg}`);
  }
}

Deno.test(`fuzz loadConfig: argv, env and TOML give a Config or a one-line UsageError`, () => {
  const rng = rngFor("loadConfig");
  for (let i = 0; i < RUNS; i++) {
    const args = randomArgv(rng);
    const env = randomEnv(rng);
    const tomlMode = rng.int(4); // 0 absent, 1 valid, 2 garbled, 3 unreadable
    const toml = tomlMode === 1 ? VALID_TOML : garbleToml(rng);
    const warnings: string[] = [];
    const ctx = `${where(rng, i)} argv=${JSON.stringify(args)} env=${JSON.stringify(env)} toml=${
      tomlMode === 2 ? JSON.stringify(toml.slice(0, 300)) : tomlMode
    }`;
    expectConfigOrUsage(() =>
      loadConfig({
        args,
        env: (name) => env[name],
        subcommands: ["host", "cloud"],
        readFile: () => {
          if (tomlMode === 0) throw new Deno.errors.NotFound("No such file or directory");
          if (tomlMode === 3) realReadError(rng);
          return toml;
        },
        warn: (line) => warnings.push(line),
        toml: TOML,
      }), ctx);
    for (const w of warnings) ok(!/[\r\n]/.test(w), `${ctx}: warning not one line: ${w}`);
  }
});

Deno.test("fuzz loadConfig: garbled TOML texts alone", () => {
  const rng = rngFor("toml");
  for (let i = 0; i < RUNS; i++) {
    const toml = rng.chance(0.1) ? randomText(rng, 300) : garbleToml(rng);
    expectConfigOrUsage(
      () =>
        loadConfig({
          args: ["--config", "fuzz.toml"],
          env: () => undefined,
          subcommands: [],
          readFile: () => toml,
          warn: () => {},
          toml: TOML,
        }),
      `${where(rng, i)} toml=${JSON.stringify(toml.slice(0, 400))}`,
    );
  }
});

// BUG: user-controlled text with a line break (a flag name, a --config path, a config file path
// given through TRACKER_CONFIG) is copied raw into the UsageError message, so the "one line"
// error rule breaks: e.g. argv ["--a\nb"] → "unknown option --a\nb (see --help)" and
// ["--config", "x\ny.toml"] (missing) → 'cannot read config file "x\ny.toml": no such file'.
Deno.test({
  name: "fuzz loadConfig: control characters in argv stay on one error line",
  fn: () => {
    const rng = rngFor("control");
    const cases: string[][] = [
      ["--a\nb"],
      ["--config", "x\ny.toml"],
      ["--interval\n", "1"],
      ["-\n"],
    ];
    for (let i = 0; i < RUNS / 4; i++) {
      const a = randomArgv(rng);
      a.splice(rng.int(a.length + 1), 0, `--${randomText(rng, 5)}\n${randomText(rng, 5)}`);
      cases.push(a);
    }
    cases.forEach((args, i) =>
      expectConfigOrUsage(
        () =>
          loadConfig({
            args,
            env: () => undefined,
            subcommands: [],
            readFile: () => {
              throw new Deno.errors.NotFound("No such file or directory");
            },
            warn: () => {},
          }),
        `${where(rng, i)} argv=${JSON.stringify(args)}`,
      )
    );
  },
});

// ---------------------------------------------------------------------------------------------
// Pure parsers

const read = (rel: string) => Deno.readTextFileSync(`${FIXTURES}/vm-basic/${rel}`);
const GPU_TESTDATA = new URL("../collectors/gpu/testdata/", import.meta.url).pathname;

/** Heredoc bodies of the fake nvidia-smi, by the case label that prints them. */
function fakeSmiOutputs(): Map<string, string> {
  const script = Deno.readTextFileSync(`${GPU_TESTDATA}nvidia-smi-fake`);
  const out = new Map<string, string>();
  for (const m of script.matchAll(/^(\S+)\)\n\s*cat <<'OUT'\n([\s\S]*?)\nOUT$/gm)) {
    out.set(m[1]!, m[2]! + "\n");
  }
  return out;
}

const SMI = fakeSmiOutputs();
const smi = (label: string) => {
  const s = SMI.get(label);
  if (s === undefined) throw new Error(`no "${label}" output in nvidia-smi-fake`);
  return s;
};

const PID_STAT =
  "4242 (python3 (x) y) S 4200 4242 4200 34816 4242 4194304 1000 0 0 0 250 30 12 4 20 0 3 0 123456 100000 2000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
const STATUS =
  "Name:\tpython3\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\nPid:\t4242\nPPid:\t4200\nVmPeak:\t  300000 kB\nVmSize:\t  290000 kB\nVmRSS:\t  262144 kB\nRssAnon:\t  200000 kB\nThreads:\t3\n";
const SMAPS_ROLLUP =
  "55d0a000-7ffe1000 ---p 00000000 00:00 0                          [rollup]\nRss:              300 kB\nPss:           131072 kB\nPss_Anon:           1 kB\nShared_Clean:       0 kB\n";
const IO =
  "rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 4096\nwrite_bytes: 67108864\ncancelled_write_bytes: 0\n";

/** Every number reachable in `v` is finite (bigints are exact, strings are not numbers). */
function nonFinite(v: unknown, path = "$", seen = new Set<unknown>()): string | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? undefined : `${path} = ${v}`;
  if (v === null || typeof v !== "object" || seen.has(v)) return undefined;
  seen.add(v);
  const entries: [string, unknown][] = v instanceof Map
    ? [...v.entries()].flatMap(([k, x], i) => [[`${path}<key ${i}>`, k], [`${path}.get(${i})`, x]])
    : v instanceof Set
    ? [...v].map((x, i) => [`${path}{${i}}`, x])
    : ArrayBuffer.isView(v)
    ? []
    : Object.entries(v).map(([k, x]) => [`${path}.${k}`, x]);
  for (const [p, x] of entries) {
    const bad = nonFinite(x, p, seen);
    if (bad) return bad;
  }
  return undefined;
}

interface TextParser {
  name: string;
  parse: (text: string) => unknown;
  samples: string[];
}

/** A parser fed `proc/<path>` of both recorded snapshots (proc/ and proc.t1/). */
function inBoth(name: string, parse: (text: string) => unknown, path: string): TextParser {
  return { name, parse, samples: [read(`proc/${path}`), read(`proc.t1/${path}`)] };
}

const TEXT_PARSERS: TextParser[] = [
  inBoth("parseProcStat", parseProcStat, "stat"),
  inBoth("parseMeminfo", parseMeminfo, "meminfo"),
  inBoth("parseNetDev", parseNetDev, "net/dev"),
  inBoth("parseDiskstats", parseDiskstats, "diskstats"),
  { name: "parseMountinfo", parse: parseMountinfo, samples: [read("proc/self/mountinfo")] },
  { name: "parseProcMounts", parse: parseProcMounts, samples: [read("proc/mounts")] },
  { name: "parseCpuinfo", parse: parseCpuinfo, samples: [read("proc/cpuinfo")] },
  { name: "parsePidStat", parse: parsePidStat, samples: [PID_STAT] },
  { name: "parseChildren", parse: parseChildren, samples: ["12 13 1044 \n", "4243 4244"] },
  { name: "parseIo", parse: parseIo, samples: [IO] },
  { name: "parseStatusRss", parse: parseStatusRss, samples: [STATUS] },
  { name: "parseSmapsRollupPss", parse: parseSmapsRollupPss, samples: [SMAPS_ROLLUP] },
  {
    name: "parseCpuStatUsage",
    parse: parseCpuStatUsage,
    samples: ["usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\nnr_periods 0\n"],
  },
  { name: "parseCpuMax", parse: parseCpuMax, samples: ["200000 100000\n", "max 100000\n"] },
  {
    name: "parseFdinfo",
    parse: parseFdinfo,
    samples: ["1000/fdinfo/5", "1000/fdinfo/6", "2000/fdinfo/9", "1001/fdinfo/4"].map((p) =>
      Deno.readTextFileSync(`${GPU_TESTDATA}amd/proc/${p}`)
    ),
  },
  { name: "parseSize", parse: parseSize, samples: ["1048576 KiB", "12 MiB", "7"] },
  {
    name: "parseDpmSclk",
    parse: parseDpmSclk,
    samples: [
      Deno.readTextFileSync(`${GPU_TESTDATA}amd/sys/class/drm/card0/device/pp_dpm_sclk`),
    ],
  },
  {
    name: "parsePciSlot",
    parse: parsePciSlot,
    samples: [Deno.readTextFileSync(`${GPU_TESTDATA}amd/sys/class/drm/card0/device/uevent`)],
  },
  { name: "parseQueryGpu", parse: parseQueryGpu, samples: [smi("--query-gpu=*")] },
  { name: "parseComputeApps", parse: parseComputeApps, samples: [smi("--query-compute-apps=*")] },
  { name: "parsePmon", parse: parsePmon, samples: [smi("pmon")] },
];

function fuzzTextParsers(rng: Rng, numbers: readonly string[], checkFinite: boolean) {
  for (const p of TEXT_PARSERS) {
    for (let i = 0; i < RUNS; i++) {
      const input = i === 0 ? "" : garble(rng, rng.pick(p.samples), numbers);
      const ctx = `${where(rng, i)} ${p.name}(${JSON.stringify(input.slice(0, 500))})`;
      let value: unknown;
      try {
        value = p.parse(input);
      } catch (err) {
        throw new Error(`${ctx} threw: ${err instanceof Error ? err.stack : err}`);
      }
      if (checkFinite) {
        const bad = nonFinite(value);
        ok(bad === undefined, `${ctx}: non-finite number ${bad}`);
      }
    }
  }
}

Deno.test("fuzz parsers: garbled real samples never throw and give finite numbers", () => {
  fuzzTextParsers(rngFor("parsers"), ODD_NUMBERS, true);
});

Deno.test("fuzz parsers: overflowing numerals never throw", () => {
  fuzzTextParsers(rngFor("parsers-overflow"), OVERFLOW_NUMBERS, false);
});

// BUG: parsers that match digits with a regex, or accept "Infinity"/"1e309", return Infinity
// for an overlong or infinite numeral where their types promise a finite number (JSON would then
// carry null). Seen with N = "9".repeat(400): parseMeminfo("MemTotal: N kB") → Infinity,
// parseChildren("1 N") → [1, Infinity], parseIo(read_bytes: N) → Infinity, parseCpuStatUsage
// ("usage_usec N") → Infinity, parseCpuMax("Infinity 100000" | "1e309 100000" | "N 100000") →
// Infinity, parseSize("N KiB") / parseFdinfo (drm-engine-gfx, drm-memory-vram) → Infinity,
// parseDpmSclk("1: NMhz *") → Infinity, parseQueryGpu (utilization, memory.total, temperature,
// clocks), parseComputeApps (pid, used_memory) and parsePmon (pid, sm) → Infinity.
// parseProcStat, parseNetDev, parseDiskstats and parsePidStat already reject non-finite values.
Deno.test({
  name: "fuzz parsers: overflowing numerals give finite numbers or no value",
  fn: () => fuzzTextParsers(rngFor("parsers-overflow-finite"), OVERFLOW_NUMBERS, true),
});

Deno.test("fuzz binary decoders: random and truncated buffers never throw", () => {
  const rng = rngFor("binary");
  const metrics = Deno.readFileSync(`${GPU_TESTDATA}amd/sys/class/drm/card0/device/gpu_metrics`);
  const counts = [0, 1, 2, 3, 7, 1000, -1, -0.5, 2.5, NaN, Infinity, -Infinity, 2 ** 31];
  for (let i = 0; i < RUNS; i++) {
    const n = rng.pick([0, 1, 3, 4, 7, 8, 16, 23, 24, 31, 32, 67, 68, 69, 96, 120, 200]);
    let buf = rng.bytes(n);
    if (rng.chance(0.3)) { // a mutated real gpu_metrics, possibly truncated or at an offset
      const m = metrics.slice();
      for (let k = 0, f = rng.int(6); k < f; k++) m[rng.int(m.length)] = rng.int(256);
      buf = m.subarray(rng.int(5), rng.int(m.length + 1));
    } else if (rng.chance(0.2)) {
      buf = new Uint8Array(rng.bytes(n + 3).buffer, rng.int(4), n); // unaligned view
    }
    const count = rng.chance(0.5) ? rng.pick(counts) : rng.int(10);
    const stride = rng.pick([24, 16]); // the two documented layouts
    const ctx = `${where(rng, i)} bytes=[${[...buf].join(",")}] count=${count} stride=${stride}`;
    const results: [string, () => unknown][] = [
      ["decodeGpuMetrics", () => decodeGpuMetrics(buf)],
      ["decodeCString", () => nvml.decodeCString(buf)],
      ["decodeHandle", () => nvml.decodeHandle(buf)],
      ["decodeU32", () => nvml.decodeU32(buf)],
      ["decodeMemory", () => nvml.decodeMemory(buf)],
      ["decodeUtilization", () => nvml.decodeUtilization(buf)],
      ["decodePciBusId", () => nvml.decodePciBusId(buf)],
      ["decodeProcessInfos", () => nvml.decodeProcessInfos(buf, count, stride)],
      ["decodeUtilSamples", () => nvml.decodeUtilSamples(buf, count)],
      ["latestSmByPid", () => nvml.latestSmByPid(nvml.decodeUtilSamples(buf, count))],
    ];
    for (const [name, fn] of results) {
      let value: unknown;
      try {
        value = fn();
      } catch (err) {
        throw new Error(`${ctx} ${name} threw: ${err instanceof Error ? err.stack : err}`);
      }
      const bad = nonFinite(value);
      ok(bad === undefined, `${ctx} ${name}: non-finite number ${bad}`);
    }
  }
});

// ---------------------------------------------------------------------------------------------
// End to end: a few garbled command lines against the real CLI

/** Garbled argv that cannot start a command or run long: words only as a flag's value. */
function boundedArgv(rng: Rng): string[] {
  const byLong = new Map(OPTIONS.map((o) => [o.name, o]));
  const byShort = new Map(OPTIONS.flatMap((o) => (o.short ? [[o.short, o]] : [])));
  const raw = randomArgv(rng);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    const a = raw[i]!;
    if (!a.startsWith("-") || a === "-" || a === "--") continue;
    const long = a.startsWith("--");
    const o = long ? byLong.get(a.slice(2).split("=")[0]!) : byShort.get(a[1] ?? "");
    if (o?.name === "interval" || o?.name === "samples") continue;
    out.push(a);
    const needsNext = o !== undefined && o.type !== "boolean" &&
      (long ? !a.includes("=") : a.length === 2);
    if (needsNext) out.push(raw[++i] ?? "x");
  }
  return out;
}

Deno.test("fuzz CLI: garbled argv exits 0, 1 or 2 with at most one error line", async () => {
  const rng = rngFor("cli");
  const dir = Deno.makeTempDirSync({ prefix: "rt-fuzz-" });
  try {
    const base = [...fixtureArgs("vm-basic"), "--no-gpu"];
    const cases: string[][] = [
      ["--interval=1e309"],
      ["--samples=-1"],
      ["--pid", "99999999999999999999"],
      ["--tag", "=", "--tag", "日本=語"],
      ["--config", ""],
      ["--output", "/nonexistent-dir/x/out.jsonl", "--quiet=false"],
      ["--format=💥"],
      ["-f", "csv", "-o", "-"],
    ];
    while (cases.length < 12) cases.push(boundedArgv(rng));
    for (const [i, garbled] of cases.entries()) {
      // The bounding flags come last so that they win; `--no-summary` absorbs a dangling flag.
      const args = [...base, ...garbled, "--no-summary", "--interval=0.1", "--samples=1"];
      const r = await runCli(args, { cwd: dir });
      const ctx = `${where(rng, i)} argv=${JSON.stringify(garbled)}\n${r.stderr}`;
      ok([0, 1, 2].includes(r.code), `${ctx}: exit ${r.code}`);
      const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
      ok(errors.length <= 1, `${ctx}: ${errors.length} error lines`);
      ok(!/^\s+at /m.test(r.stderr + r.stdout), `${ctx}: stack frames`);
      if (r.code !== 0) ok(errors.length === 1, `${ctx}: a failure says why in one error line`);
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------------------------
// Hostile spools: `flush` on random job directories never throws, never hangs, never uploads
// anything but whole samples, and exits 0 only when nothing is left.

Deno.test("fuzz flush: hostile spool contents are left and named, never sent; exit 0 only when empty", async () => {
  const { runFlushCommand } = await import("../cli/flush.ts");
  const { testContext } = await import("./fakes/context.ts");
  const { Recorder } = await import("./fakes/recorder.ts");
  const { gzipSync, gunzipSync } = await import("node:zlib");
  const rng = rngFor("fuzz flush");
  const rx = new Recorder();
  const root = await Deno.makeTempDir({ prefix: "rt-fuzzspool-" });
  const enc = new TextEncoder();
  const goodLine = '{"timestamp_ms":1}\n';
  // A well-formed HTTP job but for `odd`.
  const wellFormed = (odd: Record<string, unknown>) =>
    JSON.stringify({
      version: 1,
      kind: "http",
      ext: "jsonl.gz",
      format: "json",
      url: `${rx.url}/in`,
      run: "r",
      ...odd,
    });
  const metas = [
    () => "null",
    () => "[]",
    () => "42",
    () => '{"version":1,"kind":"http"',
    () => JSON.stringify({ version: 2, kind: "http", ext: "jsonl.gz" }),
    () => JSON.stringify({ version: 1, kind: "ftp", ext: "jsonl.gz", url: rx.url }),
    () => JSON.stringify({ version: 1, kind: "http", ext: "exe", url: rx.url }),
    () => wellFormed({ counts: rng.chance(0.5) ? null : { "1": "many" } }),
    () => wellFormed({ tokenEnv: "SECRET_VAR" }),
  ];
  const bodies = [
    () => rng.bytes(rng.int(64)),
    () => gzipSync(rng.bytes(rng.int(64))),
    () => gzipSync(enc.encode("not,json\n")),
    () => gzipSync(enc.encode(goodLine)),
    () => new Uint8Array(),
  ];
  try {
    const runs = Math.max(4, Math.min(30, Math.floor(RUNS / 40)));
    for (let i = 0; i < runs; i++) {
      const spool = `${root}/s${i}`;
      await Deno.mkdir(spool, { mode: 0o700 });
      const jobs = rng.range(1, 3);
      for (let j = 0; j < jobs; j++) {
        const dir = `${spool}/http-${j}`;
        await Deno.mkdir(dir, { mode: 0o700 });
        if (rng.chance(0.9)) await Deno.writeTextFile(`${dir}/job.json`, rng.pick(metas)());
        if (rng.chance(0.2)) await Deno.writeTextFile(`${dir}/owner`, rng.pick(["1", "x", "1 1"]));
        for (let b = 1; b <= rng.range(0, 3); b++) {
          const name = `${dir}/${String(b).padStart(6, "0")}.jsonl.gz`;
          const kind = rng.int(5);
          if (kind === 0) await Deno.symlink("/etc/hostname", name);
          else if (kind === 1) await new Deno.Command("mkfifo", { args: [name] }).output();
          else if (kind === 2) await Deno.mkdir(name);
          else await Deno.writeFile(name, rng.pick(bodies)());
        }
        if (rng.chance(0.1)) await Deno.chmod(dir, 0o777);
      }
      const ctx = testContext(["--spool-dir", spool, "--flush-timeout", "2"], {
        SECRET_VAR: "fuzz-secret-1",
      });
      const before = rx.requests.length;
      const t0 = Date.now();
      let code: number;
      try {
        code = await runFlushCommand(ctx, { tuning: { retryBaseMs: 10, retryMaxMs: 20 } });
      } catch (err) {
        throw new Error(`seed ${SEED} case ${i}: flush threw ${err}`);
      }
      ok(Date.now() - t0 < 30_000, `seed ${SEED} case ${i}: took ${Date.now() - t0} ms`);
      for (const r of rx.requests.slice(before)) {
        ok(r.authorization === null, `seed ${SEED} case ${i}: a token named by job.json was sent`);
        const text = new TextDecoder().decode(gunzipSync(r.body));
        ok(text === goodLine, `seed ${SEED} case ${i}: uploaded ${JSON.stringify(text)}`);
      }
      const left = [];
      for await (const e of Deno.readDir(spool)) left.push(e.name);
      ok(code === 0 || code === 1, `seed ${SEED} case ${i}: exit ${code}`);
      if (code === 0) ok(left.length === 0, `seed ${SEED} case ${i}: exit 0 with ${left} left`);
      else ok(ctx.warnings.length > 0, `seed ${SEED} case ${i}: exit 1 without saying why`);
      ok(
        ctx.warnings.every((w) => !w.includes("fuzz-secret-1")),
        `seed ${SEED} case ${i}: secret in a message`,
      );
    }
  } finally {
    await rx.close();
    await Deno.remove(root, { recursive: true });
  }
});
