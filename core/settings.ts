/**
 * What the engine needs from the configuration, one typed section per area, resolved once by the
 * CLI (`cli/settings.ts`). The engine never sees the option registry or reads a setting by name,
 * so a new setting is a type error here until the CLI provides it (docs/ARCHITECTURE.md
 * "Settings"). Types only: importing this file loads nothing at start-up.
 */
import type { Roots } from "../base/sample.ts";
import type { SinkSettings } from "../sinks/settings.ts";

/** How and what to sample. */
export interface SamplingSettings {
  /** Seconds between samples (`--interval`). */
  readonly intervalSecs: number;
  /** Stop after this many samples (null: until stopped; ignored when wrapping a command). */
  readonly samples: number | null;
  /** `--pid`: attach to this process (ignored when wrapping a command). */
  readonly pid: number | null;
  readonly roots: Roots;
}

/** The job: the command to wrap, its run metadata, and the cgroup it may get. */
export interface JobSettings {
  /** The command to wrap (empty: system-only or attach mode). */
  readonly command: readonly string[];
  /** Run metadata keyed by snake_case name (`job_name`, `project_name`, …). */
  readonly metadata: Readonly<Record<string, string | null>>;
  readonly tags: Readonly<Record<string, string>>;
  /** `--cgroup`: run the command in a cgroup of its own. */
  readonly cgroup: boolean;
  /** `--memory-max`, bytes (null: no limit). */
  readonly memoryMax: number | null;
  /** `--cpu-max`, cores (null: no quota). */
  readonly cpuMax: number | null;
  /** `--wait-descendants`: the run ends when the command's last descendant does. */
  readonly waitDescendants: boolean;
}

/** Cloud discovery. */
export interface CloudSettings {
  /** `--no-cloud`: no discovery, no packet. */
  readonly disabled: boolean;
  /** `--cloud ID`: ask this provider only (null: all). */
  readonly only: string | null;
}

/** GPU collection. */
export interface GpuSettings {
  /** `--no-gpu`. */
  readonly disabled: boolean;
  /** nvidia-smi to use when NVML cannot be loaded. */
  readonly nvidiaSmi: string;
}

/** The end-of-run summary of a tracked job. */
export interface SummarySettings {
  /** `--no-summary`: nothing on stderr at the end. */
  readonly quiet: boolean;
  /** `--summary-json FILE` (null: none). */
  readonly jsonPath: string | null;
}

/** Everything a tracking run needs (`core/run.ts` `track`). */
export interface TrackSettings {
  readonly sampling: SamplingSettings;
  readonly job: JobSettings;
  readonly sinks: SinkSettings;
  readonly cloud: CloudSettings;
  readonly gpu: GpuSettings;
  readonly summary: SummarySettings;
}
