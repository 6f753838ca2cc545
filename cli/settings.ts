/**
 * The resolved options (`Config.values`) turned into typed settings, one section per area: the
 * one place outside cli/config.ts where an option is looked up by name (docs/ARCHITECTURE.md
 * "Settings"). Everything below cli/ takes these sections, never a `Config`.
 */
import type {
  CloudSettings,
  GpuSettings,
  JobSettings,
  SamplingSettings,
  SummarySettings,
  TrackSettings,
} from "../core/settings.ts";
import { UsageError } from "../base/errors.ts";
import type { FlushSettings, SinkSettings } from "../sinks/settings.ts";
import type { Config } from "./config.ts";

function samplingSettings(config: Config): SamplingSettings {
  return {
    intervalSecs: config.interval,
    samples: config.samples,
    pid: config.pid,
    roots: config.roots,
  };
}

function jobSettings(config: Config): JobSettings {
  const v = config.values;
  return {
    command: config.command,
    metadata: config.metadata,
    tags: config.tags,
    cgroup: v.get("cgroup") === true,
    memoryMax: (v.get("memory-max") as number | undefined) ?? null,
    cpuMax: (v.get("cpu-max") as number | undefined) ?? null,
    waitDescendants: v.get("wait-descendants") === true,
  };
}

export function cloudSettings(config: Config): CloudSettings {
  return {
    disabled: config.values.get("no-cloud") === true,
    only: (config.values.get("cloud") as string | undefined) || null,
  };
}

export function gpuSettings(config: Config): GpuSettings {
  return {
    disabled: config.values.get("no-gpu") === true,
    nvidiaSmi: config.values.get("nvidia-smi") as string,
  };
}

function summarySettings(config: Config): SummarySettings {
  return {
    quiet: config.values.get("no-summary") === true,
    jsonPath: (config.values.get("summary-json") as string | undefined) || null,
  };
}

export function trackSettings(config: Config): TrackSettings {
  return {
    sampling: samplingSettings(config),
    job: jobSettings(config),
    sinks: sinkSettings(config),
    cloud: cloudSettings(config),
    gpu: gpuSettings(config),
    summary: summarySettings(config),
  };
}

/** Cost and energy settings of `report` (report/options.ts); the price table is read later. */
export interface CostSettings {
  readonly priceTablePath: string | null;
  readonly pricePerHour: number | null;
  readonly currency: string;
  readonly pricePerKwh: number | null;
  readonly gridGPerKwh: number | null;
  /** Watts per vCPU, idle and busy. */
  readonly vcpuWatts: readonly [number, number];
}

export function costSettings(config: Config): CostSettings {
  const v = config.values;
  const [idle, busy] = String(v.get("vcpu-watts") ?? "0.74,3.5").split(",").map(Number);
  return {
    priceTablePath: (v.get("price-table") as string | undefined) || null,
    pricePerHour: (v.get("price-per-hour") as number | undefined) ?? null,
    currency: (v.get("currency") as string | undefined) ?? "USD",
    pricePerKwh: (v.get("price-per-kwh") as number | undefined) ?? null,
    gridGPerKwh: (v.get("grid-intensity") as number | undefined) ?? null,
    vcpuWatts: [idle!, busy!],
  };
}

/** Options that mean something to `flush` only; elsewhere they are usage errors. */
const FLUSH_ONLY = ["list", "drop", "all-rejected"] as const;

export function sinkSettings(config: Config): SinkSettings {
  const v = config.values;
  if (config.subcommand !== "flush") {
    for (const flag of FLUSH_ONLY) {
      const given = v.get(flag);
      if (given === true || (Array.isArray(given) && given.length > 0)) {
        throw new UsageError(`--${flag} belongs to \`resource-tracker flush\``);
      }
    }
  }
  return {
    uris: (v.get("sink") as string[] | undefined) ?? [],
    output: config.output,
    format: config.format,
    quiet: config.quiet,
    intervalSecs: config.interval,
    maxSizeBytes: (v.get("max-size") as number | undefined) ?? null,
    maxFiles: v.get("max-files") as number,
    uploadIntervalSecs: v.get("upload-interval") as number,
    spoolDir: (v.get("spool-dir") as string | undefined) ?? null,
    flushTimeoutSecs: v.get("flush-timeout") as number,
    httpTokenEnv: v.get("http-token-env") as string,
    live: v.get("live") === true,
    listen: (v.get("listen") as string | undefined) ?? null,
  };
}

export function flushSettings(config: Config): FlushSettings {
  const v = config.values;
  return {
    list: v.get("list") === true,
    drop: (v.get("drop") as string[] | undefined) ?? [],
    allRejected: v.get("all-rejected") === true,
  };
}
