/**
 * Turns two snapshots of raw counters into a Sample (docs/ARCHITECTURE.md "Data flow"). The sampler owns the
 * previous snapshot and the monotonic timestamps; collectors only read. A collector that throws
 * is reported once and leaves its part of the sample empty; the others go on.
 */
import {
  deriveCgroup,
  detectCgroup,
  readCgroupUsageSecs,
  readQuotaCores,
} from "../collectors/cgroup.ts";
import type { CgroupSource } from "../collectors/cgroup.ts";
import { busyTicks, deriveCpu, type ProcStat, readProcStat, zeroCpu } from "../collectors/cpu.ts";
import type { AnySection } from "../collectors/section.ts";
import { SECTIONS } from "../collectors/sections.ts";
import { ProcessCounter } from "../collectors/processes.ts";
import { registerRoot } from "../collectors/read.ts";
import { CgroupMonitor } from "./cgroup_monitor.ts";
import {
  type CpuSample,
  type GpuSample,
  NO_PROCESS_TREE,
  type Roots,
  type Sample,
  type SectionSamples,
} from "../base/sample.ts";
import { errorText } from "../base/errors.ts";
import type { EnergyMeter } from "../collectors/energy/mod.ts";
import type { GpuCollector } from "../collectors/gpu/mod.ts";

/** USER_HZ: the unit of /proc/stat and /proc/<pid>/stat times; 100 on every Linux ABI. */
export const TICKS_PER_SEC = 100;

/** What the GPU collector hands the sampler (collectors/gpu/mod.ts). */
export type GpuSource = Pick<GpuCollector, "read">;

/** Process-tree fields of `cpu` (core/process_tracker.ts). */
export interface ProcessSource {
  readonly pid: number;
  /** Reads tree CPU ticks; called before the interval's monotonic timestamp (docs/COMPATIBILITY.md §3.7). */
  readTimed(): void;
  /** Fills `cpu.process_*` (not GPU) and returns the live tree for per-process GPU. */
  fill(cpu: CpuSample, ctx: ProcessContext): ReadonlySet<number>;
}

export interface ProcessContext {
  elapsedSecs: number;
  /**
   * Host busy cores this interval (the sample's `utilization_pct`: busy ÷ total ticks × CPUs),
   * undefined without two /proc/stat readings.
   */
  hostBusyCores: number | undefined;
  /** The longer of the sampler's and the loop's measured interval, in seconds (tick rounding). */
  roundingSecs: number;
  /** CFS quota cores, or the online core count without a quota. */
  capCores: number;
  /** CPUs in /proc/stat (the tick rounding of host busy time is one tick per CPU). */
  onlineCores: number;
  baseline: boolean;
}

export interface SamplerOptions {
  roots: Roots;
  jobName: string | null;
  version: string;
  warn: (line: string) => void;
  gpu?: GpuSource;
  /** Energy counters (collectors/energy); the sample gets `energy` when it returns one. */
  energy?: Pick<EnergyMeter, "read">;
  process?: ProcessSource;
  /** The cgroup to report (job cgroup mode); by default the tracked process's is followed. */
  cgroups?: CgroupMonitor;
  /** Monotonic clock in ms (injected by tests); defaults to performance.now. */
  monotonic?: () => number;
}

/** The interval a sample covers, as the derive steps need it. */
interface Interval {
  prev: Snapshot | undefined;
  elapsedSecs: number;
  /** CPUs in /proc/stat (0 when it could not be read). */
  cores: number;
}

interface Snapshot {
  /** Monotonic ms after the timed reads. */
  t: number;
  stat: ProcStat | undefined;
  cgroupSecs: number | undefined;
}

/** A section collector and its previous raw reading. */
interface SectionState {
  readonly section: AnySection;
  prev: unknown;
}

export class Sampler {
  readonly #o: SamplerOptions;
  readonly #cgroup: CgroupSource;
  readonly #quota: number | undefined;
  readonly #sections: SectionState[];
  readonly #failed = new Set<string>();
  readonly #processes: ProcessCounter;
  #prev: Snapshot | undefined;
  readonly #process: ProcessSource | undefined;
  /** Limits, throttling, OOM and pressure of the tracked process's cgroup. */
  readonly cgroups: CgroupMonitor;

  constructor(o: SamplerOptions) {
    this.#o = o;
    this.#process = o.process;
    registerRoot(o.roots.proc);
    registerRoot(o.roots.sys);
    this.#processes = new ProcessCounter(o.roots.proc);
    this.#cgroup = detectCgroup(o.roots.sys);
    this.cgroups = o.cgroups ??
      new CgroupMonitor({
        proc: o.roots.proc,
        sys: o.roots.sys,
        pid: o.process?.pid ?? "self",
      });
    this.#quota = readQuotaCores(o.roots.sys);
    this.#sections = SECTIONS.map((make) => ({ section: make(o.roots), prev: undefined }));
  }

  /**
   * Runs `fn`; on a throw reports the collector once and returns `fallback`. Each read and each
   * derive has its own key (`network read`, `network derive`), so a read that succeeds never
   * re-arms the warning of a derive that keeps failing; the message names the collector only.
   */
  #guard<T>(key: string, fn: () => T, fallback: T): T {
    try {
      const value = fn();
      this.#failed.delete(key);
      return value;
    } catch (err) {
      if (!this.#failed.has(key)) {
        this.#failed.add(key);
        const name = key.replace(/ (read|derive)$/, "");
        this.#o.warn(`${name} collector failed: ${errorText(err)}`);
      }
      return fallback;
    }
  }

  /**
   * Takes one snapshot and returns the sample for the interval since the previous one. The
   * first call is the baseline: its deltas are zero and callers normally do not emit it.
   */
  collect(wallMs: number, actualIntervalMs?: number): Sample {
    // Timed reads first, then the monotonic stamp (docs/COMPATIBILITY.md §3.7).
    const stat = this.#guard("cpu read", () => readProcStat(this.#o.roots.proc), undefined);
    const cgroupSecs = this.#guard(
      "cgroup read",
      () => readCgroupUsageSecs(this.#cgroup),
      undefined,
    );
    const process = this.#process;
    if (process) this.#guard("process read", () => process.readTimed(), undefined);
    const t = (this.#o.monotonic ?? performance.now.bind(performance))();
    const prev = this.#prev;
    const at: Interval = {
      prev,
      elapsedSecs: prev ? Math.max(0.001, (t - prev.t) / 1000) : 0,
      cores: stat?.cores.length ?? 0,
    };

    const cpu = this.#cpu(stat, cgroupSecs, at);
    const tree = process ? this.#tree(process, cpu, stat, at, actualIntervalMs) : null;
    const cgroup = this.#cgroupSample(cpu, tree, at);
    const sections = this.#readSections(at.elapsedSecs);
    const gpu = this.#gpu(cpu, tree, at);
    const meter = this.#o.energy;
    const energy = meter
      ? this.#guard("energy", () => meter.read(at.elapsedSecs, gpu), null)
      : null;

    this.#prev = { t, stat: stat ?? prev?.stat, cgroupSecs };
    return {
      timestamp_secs: Math.floor(wallMs / 1000),
      timestamp_ms: Math.floor(wallMs),
      ...(actualIntervalMs !== undefined ? { actual_interval_ms: actualIntervalMs } : {}),
      job_name: this.#o.jobName,
      tracked_pid: process?.pid ?? null,
      cpu,
      ...sections,
      gpu,
      cgroup,
      ...(energy ? { energy } : {}),
      "resource-tracker-version": this.#o.version,
    };
  }

  /** Host CPU, the cgroup's CPU and the process count; `process_*` empty until filled. */
  #cpu(stat: ProcStat | undefined, cgroupSecs: number | undefined, at: Interval): CpuSample {
    const { prev } = at;
    const derived = stat
      ? this.#guard(
        "cpu derive",
        () => prev?.stat ? deriveCpu(prev.stat, stat, TICKS_PER_SEC) : zeroCpu(stat),
        undefined,
      )
      : undefined;
    let cgroup: { usage_secs: number; utilization_pct: number } | null = null;
    if (cgroupSecs !== undefined) {
      cgroup = prev?.cgroupSecs !== undefined
        ? this.#guard(
          "cgroup derive",
          () =>
            deriveCgroup(
              prev.cgroupSecs!,
              cgroupSecs,
              at.elapsedSecs,
              Math.min(at.cores || Infinity, this.#quota ?? Infinity),
            ),
          null,
        )
        : { usage_secs: 0, utilization_pct: 0 };
    }
    return {
      utilization_pct: derived?.utilization_pct ?? 0,
      cgroup_usage_secs: cgroup?.usage_secs ?? null,
      cgroup_utilization_pct: cgroup?.utilization_pct ?? null,
      per_core_pct: derived?.per_core_pct ?? [],
      utime_secs: derived?.utime_secs ?? 0,
      stime_secs: derived?.stime_secs ?? 0,
      process_count: this.#guard("process count", () => this.#processes.next(), 0),
      ...NO_PROCESS_TREE,
    };
  }

  /** Fills `cpu.process_*` from the tracked tree; returns the tree's live PIDs. */
  #tree(
    p: ProcessSource,
    cpu: CpuSample,
    stat: ProcStat | undefined,
    at: Interval,
    actualIntervalMs: number | undefined,
  ): ReadonlySet<number> {
    const { prev, elapsedSecs, cores } = at;
    let hostBusyCores: number | undefined;
    if (stat && prev?.stat && busyTicks(prev.stat.total, stat.total).total > 0) {
      hostBusyCores = cpu.utilization_pct;
    }
    return this.#guard(
      "process derive",
      () =>
        p.fill(cpu, {
          elapsedSecs,
          hostBusyCores,
          roundingSecs: Math.max(elapsedSecs, (actualIntervalMs ?? 0) / 1000),
          capCores: this.#quota ?? Math.max(1, cores),
          onlineCores: Math.max(1, cores),
          baseline: prev === undefined,
        }),
      new Set<number>(),
    );
  }

  /** The followed cgroup's limits and pressure; in job cgroup mode, the job's exact totals. */
  #cgroupSample(cpu: CpuSample, tree: ReadonlySet<number> | null, at: Interval) {
    const sample = this.#guard("cgroup limits", () => this.cgroups.sample(tree), null);
    if (this.cgroups.job) {
      this.#guard("job cgroup", () =>
        this.cgroups.fillProcess(cpu, {
          elapsedSecs: at.elapsedSecs,
          capCores: this.#quota ?? Math.max(1, at.cores),
          baseline: at.prev === undefined,
        }), undefined);
    }
    return sample;
  }

  /** Each section's read, then its derive from the previous read (collectors/sections.ts). */
  #readSections(elapsedSecs: number): SectionSamples {
    const out: Record<string, unknown> = {};
    for (const state of this.#sections) {
      const { key, empty } = state.section;
      const raw = this.#guard(`${key} read`, () => state.section.read(), undefined);
      out[key] = raw === undefined
        ? empty
        : this.#guard(`${key} derive`, () =>
          state.section.derive(state.prev, raw, elapsedSecs), empty);
      state.prev = raw;
    }
    return out as unknown as SectionSamples;
  }

  /** GPU devices; the tree's share of them goes into `cpu.process_gpu_*`. */
  #gpu(cpu: CpuSample, tree: ReadonlySet<number> | null, at: Interval): GpuSample[] {
    const g = this.#o.gpu;
    if (!g) return [];
    const reading = this.#guard("gpu", () => g.read(tree, at.elapsedSecs), {
      devices: [],
      process: null,
    });
    if (reading.process) {
      cpu.process_gpu_usage = reading.process.usage;
      cpu.process_gpu_vram_mib = reading.process.vram_mib;
      cpu.process_gpu_utilized = reading.process.utilized;
    }
    return reading.devices;
  }
}
