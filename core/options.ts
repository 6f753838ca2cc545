/**
 * The option registry: every setting with its flag, environment variable, TOML key, default and
 * help. Parsing, precedence, `--help` and the README table all come from this one array.
 */
import { PROVIDER_IDS as CLOUD_IDS } from "../clouds/ids.ts";
import { FORMATS } from "../formats/mod.ts";
import { REPORT_OPTIONS } from "../report/options.ts";
import { SINK_OPTIONS } from "../sinks/options.ts";
import { LIVE_OPTIONS } from "../serve/options.ts";

/**
 * `list` = KEY=VALUE pairs merged per key across sources (tags); `strings` = a repeatable plain
 * value whose highest-precedence source wins whole (CLI list, else env comma list, else TOML array).
 */
export type OptionType = "string" | "boolean" | "number" | "integer" | "list" | "strings";

export interface OptionDef {
  /** Key in the resolved settings object and long flag name (`--${name}`). */
  readonly name: string;
  readonly short?: string;
  readonly type: OptionType;
  readonly env?: string;
  /** TOML keys, first is canonical; later ones are accepted aliases (R's `tracker.interval_secs`). */
  readonly toml?: readonly string[];
  readonly default?: string | number | boolean;
  readonly metavar?: string;
  readonly help: string;
  /** Validates and normalises a value; throws a plain message, the caller adds where it came from. */
  readonly check?: (value: unknown) => unknown;
  /** Options only read from the command line (e.g. `--config` itself). */
  readonly cliOnly?: boolean;
}

/** Longest interval or timeout: one day, well inside a timer's 2^31-1 ms (about 24.8 days). */
export const MAX_SECONDS = 86_400;

function interval(v: unknown): number {
  const n = typeof v === "number" ? v : Number(String(v).trim());
  if (String(v).trim() === "" || !Number.isFinite(n) || n < 0.1) {
    throw new Error(`expected seconds >= 0.1, got ${JSON.stringify(v)}`);
  }
  if (n > MAX_SECONDS) {
    throw new Error(`expected seconds <= ${MAX_SECONDS}, got ${JSON.stringify(v)}`);
  }
  return n;
}

function positiveInt(v: unknown): number {
  const n = typeof v === "number" ? v : Number(String(v).trim());
  if (!Number.isInteger(n) || n <= 0) {
    throw new Error(`expected a positive integer, got ${JSON.stringify(v)}`);
  }
  return n;
}

function pid(v: unknown): number {
  const n = typeof v === "number" ? v : Number(String(v).trim());
  if (!Number.isInteger(n) || n <= 0 || n > 4_194_304) {
    throw new Error(`expected a process id (positive integer), got ${JSON.stringify(v)}`);
  }
  return n;
}

function oneOf(values: readonly string[]) {
  return (v: unknown): string => {
    const s = String(v).trim().toLowerCase();
    if (!values.includes(s)) {
      throw new Error(`expected one of ${values.join(", ")}, got ${JSON.stringify(v)}`);
    }
    return s;
  };
}

const META = [
  ["project-name", "Project name (run metadata)."],
  ["job-name", "Job name (run metadata; also `job_name` in every sample)."],
  ["stage-name", "Stage name (run metadata)."],
  ["task-name", "Task name (run metadata)."],
  ["team", "Team (run metadata)."],
  ["env", "Environment, e.g. prod or dev (run metadata)."],
  ["language", "Language of the job (run metadata)."],
  ["orchestrator", "Orchestrator, e.g. airflow (run metadata)."],
  ["executor", "Executor, e.g. k8s (run metadata)."],
  ["external-run-id", "Run id in the orchestrator (run metadata)."],
  ["container-image", "Container image (run metadata)."],
] as const;

/** Bytes with an optional binary suffix (K, M, G, T; KiB … too), at least 1 MiB. */
function bytes(v: unknown): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(String(v));
  const n = m ? Number(m[1]) * 1024 ** " KMGT".indexOf((m[2] || " ").toUpperCase()) : NaN;
  if (!Number.isFinite(n) || n < 1048576) {
    throw new Error(`expected a size of at least 1M (e.g. 512M, 4G), got ${JSON.stringify(v)}`);
  }
  return Math.floor(n);
}

/** Cores, at least 0.01 (the kernel's smallest CFS quota is 1 ms per 100 ms period). */
function cores(v: unknown): number {
  const n = typeof v === "number" ? v : Number(String(v).trim());
  if (String(v).trim() === "" || !Number.isFinite(n) || n < 0.01) {
    throw new Error(`expected cores >= 0.01 (e.g. 0.5, 2), got ${JSON.stringify(v)}`);
  }
  return n;
}

/** Job cgroup mode and the job's life (issue 17). */
const JOB_CGROUP_OPTIONS: readonly OptionDef[] = [
  {
    name: "cgroup",
    type: "boolean",
    env: "TRACKER_CGROUP",
    toml: ["tracker.cgroup"],
    default: false,
    help:
      "Run the command in a cgroup of its own (root or a delegated v2 subtree): exact CPU, memory, I/O and task totals; falls back to the process tree when not allowed.",
  },
  {
    name: "memory-max",
    type: "string",
    env: "TRACKER_MEMORY_MAX",
    toml: ["tracker.memory_max"],
    metavar: "SIZE",
    help: "With --cgroup: memory limit of the job's cgroup, e.g. 512M or 4G (OOM kill beyond).",
    check: bytes,
  },
  {
    name: "cpu-max",
    type: "string",
    env: "TRACKER_CPU_MAX",
    toml: ["tracker.cpu_max"],
    metavar: "CORES",
    help:
      "With --cgroup: CPU quota of the job's cgroup in cores, e.g. 0.5 or 2 (throttled beyond).",
    check: cores,
  },
  {
    name: "wait-descendants",
    type: "boolean",
    env: "TRACKER_WAIT_DESCENDANTS",
    toml: ["tracker.wait_descendants"],
    default: false,
    help:
      "Keep tracking (and reaping) after the command exits until every descendant it left behind has exited.",
  },
];

export const METADATA_KEYS = META.map(([name]) => name.replaceAll("-", "_"));

export const OPTIONS: readonly OptionDef[] = [
  {
    name: "interval",
    short: "i",
    type: "number",
    env: "TRACKER_INTERVAL",
    toml: ["tracker.interval", "tracker.interval_secs"],
    default: 1,
    metavar: "SECS",
    help: "Seconds between samples; fractions allowed, minimum 0.1.",
    check: interval,
  },
  {
    name: "samples",
    type: "integer",
    env: "TRACKER_SAMPLES",
    toml: ["tracker.samples"],
    metavar: "N",
    help: "Stop after N samples (system-only and attach mode); default: run until stopped.",
    check: positiveInt,
  },
  {
    name: "pid",
    short: "p",
    type: "integer",
    env: "TRACKER_PID",
    toml: ["job.pid"],
    metavar: "PID",
    help: "Track an existing process and its descendants (attach mode).",
    check: pid,
  },
  {
    name: "format",
    short: "f",
    type: "string",
    env: "TRACKER_FORMAT",
    toml: ["tracker.format"],
    default: "json",
    metavar: "FORMAT",
    help: "Sample format: json (JSON Lines) or csv.",
    check: oneOf(FORMATS),
  },
  {
    name: "output",
    short: "o",
    type: "string",
    env: "TRACKER_OUTPUT",
    toml: ["tracker.output"],
    metavar: "FILE",
    help: "Write samples to FILE (created 0600) instead of stderr; `-` means stdout.",
  },
  {
    name: "quiet",
    short: "q",
    type: "boolean",
    env: "TRACKER_QUIET",
    toml: ["tracker.quiet"],
    default: false,
    help: "Write no samples locally (wins over --output).",
  },
  {
    name: "config",
    short: "c",
    type: "string",
    env: "TRACKER_CONFIG",
    default: "resource-tracker.toml",
    metavar: "FILE",
    help: "TOML configuration file; the default is skipped silently when absent.",
    cliOnly: true,
  },
  ...META.map(([name, help]): OptionDef => ({
    name,
    ...(name === "job-name" ? { short: "n" } : {}),
    type: "string",
    env: `TRACKER_${name.toUpperCase().replaceAll("-", "_")}`,
    toml: name === "job-name" ? ["job.name", "job.job_name"] : [`job.${name.replaceAll("-", "_")}`],
    metavar: "TEXT",
    help,
  })),
  {
    name: "tag",
    type: "list",
    env: "TRACKER_TAGS",
    toml: ["job.tags"],
    metavar: "KEY=VALUE",
    help: "Run tag; repeatable. The variable takes a comma-separated list.",
  },
  {
    name: "no-summary",
    type: "boolean",
    env: "TRACKER_NO_SUMMARY",
    toml: ["tracker.no_summary"],
    default: false,
    help: "Do not print the run summary of a wrapped or attached run to stderr.",
  },
  {
    name: "summary-json",
    type: "string",
    env: "TRACKER_SUMMARY_JSON",
    toml: ["tracker.summary_json"],
    metavar: "FILE",
    help: "Also write the run summary as JSON to FILE (created 0600).",
  },
  ...JOB_CGROUP_OPTIONS,
  {
    name: "no-cloud",
    type: "boolean",
    env: "TRACKER_NO_CLOUD",
    toml: ["cloud.disabled"],
    default: false,
    help: "No cloud discovery: not a single packet to metadata services.",
  },
  {
    name: "cloud",
    type: "string",
    env: "TRACKER_CLOUD",
    toml: ["cloud.provider"],
    metavar: "ID",
    help: `Skip detection and ask only this provider (${CLOUD_IDS.join(", ")}).`,
    check: oneOf(CLOUD_IDS),
  },
  {
    name: "no-gpu",
    type: "boolean",
    env: "TRACKER_NO_GPU",
    toml: ["gpu.disabled"],
    default: false,
    help: "No GPU collection (no NVML, no nvidia-smi, no amdgpu reads).",
  },
  {
    name: "nvidia-smi",
    type: "string",
    env: "TRACKER_NVIDIA_SMI",
    toml: ["gpu.nvidia_smi"],
    default: "nvidia-smi",
    metavar: "PATH",
    help: "nvidia-smi to use when NVML cannot be loaded.",
  },
  ...SINK_OPTIONS,
  ...REPORT_OPTIONS,
  ...LIVE_OPTIONS,
  {
    name: "procfs",
    type: "string",
    env: "TRACKER_PROCFS",
    toml: ["tracker.procfs"],
    default: "/proc",
    metavar: "DIR",
    help: "Where procfs is mounted (e.g. /host/proc in a container).",
  },
  {
    name: "sysfs",
    type: "string",
    env: "TRACKER_SYSFS",
    toml: ["tracker.sysfs"],
    default: "/sys",
    metavar: "DIR",
    help: "Where sysfs is mounted (e.g. /host/sys in a container).",
  },
  {
    name: "rootfs",
    type: "string",
    env: "TRACKER_ROOTFS",
    toml: ["tracker.rootfs"],
    default: "/",
    metavar: "DIR",
    help: "Where the host's root is mounted, for filesystem space (e.g. /host).",
  },
];

export function optionByName(name: string): OptionDef | undefined {
  return OPTIONS.find((o) => o.name === name);
}
