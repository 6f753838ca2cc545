/**
 * The option registry: every setting with its flag, environment variable, TOML key, default and
 * help. Parsing, precedence, `--help` and the README table all come from this one array.
 */
import { CLOUD_OPTIONS } from "../clouds/options.ts";
import { GPU_OPTIONS } from "../collectors/gpu/options.ts";
import { FORMATS } from "../formats/mod.ts";
import { REPORT_OPTIONS } from "../report/options.ts";
import { SINK_OPTIONS } from "../sinks/options.ts";
import { LIVE_OPTIONS } from "../serve/options.ts";
import { atLeast, oneOf, type OptionDef, seconds, size, wholeNumber } from "../base/option.ts";

export type { OptionDef, OptionType } from "../base/option.ts";

const interval = seconds(0.1);
const positiveInt = wholeNumber(1, Number.MAX_SAFE_INTEGER, "a positive integer");
const pid = wholeNumber(1, 4_194_304, "a process id (positive integer)");

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

/** At least 1 MiB (a smaller memory limit cannot hold a process). */
const bytes = size(1048576, "1M (e.g. 512M, 4G)");

/** Cores, at least 0.01 (the kernel's smallest CFS quota is 1 ms per 100 ms period). */
const cores = atLeast(0.01, "cores");

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
  ...CLOUD_OPTIONS,
  ...GPU_OPTIONS,
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
