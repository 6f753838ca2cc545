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
import { deriveDisks, type DiskCounters, DiskReader } from "../collectors/disk.ts";
import { deriveMemory, readMeminfo } from "../collectors/memory.ts";
import {
  deriveNetwork,
  type NetCounters,
  type NetIdentity,
  readNetDev,
  readNetIdentity,
  readNetState,
} from "../collectors/network.ts";
import { ProcessCounter } from "../collectors/processes.ts";
import { registerRoot } from "../collectors/read.ts";
import { CgroupMonitor } from "./cgroup_monitor.ts";
import type {
  CpuSample,
  EnergySample,
  GpuSample,
  MemorySample,
  Roots,
  Sample,
} from "../base/sample.ts";
import { errorText } from "../base/errors.ts";

/** USER_HZ: the unit of /proc/stat and /proc/<pid>/stat times; 100 on every Linux ABI. */
export const TICKS_PER_SEC = 100;

/** What the GPU collector hands the sampler (see collectors/gpu/mod.ts). */
export interface GpuSource {
  read(tree: ReadonlySet<number> | null, elapsedSecs: number): {
    devices: GpuSample[];
    process: { usage: number; vram_mib: number; utilized: number } | null;
  };
}

/** Process-tree fields of `cpu` (issue 3 plugs the tracker in here). */
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
  energy?: { read(secs: number, gpus: readonly GpuSample[]): EnergySample | null };
  process?: ProcessSource;
  /** The cgroup to report (job cgroup mode); by default the tracked process's is followed. */
  cgroups?: CgroupMonitor;
  /** Monotonic clock in ms (injected by tests); defaults to performance.now. */
  monotonic?: () => number;
}

interface Snapshot {
  /** Monotonic ms after the timed reads. */
  t: number;
  stat: ProcStat | undefined;
  cgroupSecs: number | undefined;
  net: NetCounters[] | undefined;
  disk: Map<string, DiskCounters> | undefined;
}

const EMPTY_MEMORY: MemorySample = {
  total_mib: 0,
  free_mib: 0,
  available_mib: 0,
  used_mib: 0,
  used_pct: 0,
  buffers_mib: 0,
  cached_mib: 0,
  swap_total_mib: 0,
  swap_used_mib: 0,
  swap_used_pct: 0,
  active_mib: 0,
  inactive_mib: 0,
};

export class Sampler {
  readonly #o: SamplerOptions;
  readonly #cgroup: CgroupSource;
  readonly #quota: number | undefined;
  readonly #disks: DiskReader;
  readonly #netIds = new Map<string, NetIdentity>();
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
    this.#disks = new DiskReader(o.roots.proc, o.roots.sys, o.roots.root);
    // Identity of interfaces present at start-up is read once; later ones get nulls (docs/COMPATIBILITY.md §1.5).
    for (const c of readNetDev(o.roots.proc) ?? []) {
      this.#netIds.set(c.interface, readNetIdentity(o.roots.sys, c.interface));
    }
  }

  /** Runs `fn`; on a throw reports the collector once and returns `fallback`. */
  #guard<T>(name: string, fn: () => T, fallback: T): T {
    try {
      const value = fn();
      this.#failed.delete(name);
      return value;
    } catch (err) {
      if (!this.#failed.has(name)) {
        this.#failed.add(name);
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
    const { roots } = this.#o;
    // Timed reads first, then the monotonic stamp (docs/COMPATIBILITY.md §3.7).
    const stat = this.#guard("cpu", () => readProcStat(roots.proc), undefined);
    const cgroupSecs = this.#guard("cgroup", () => readCgroupUsageSecs(this.#cgroup), undefined);
    if (this.#process) this.#guard("process", () => this.#process!.readTimed(), undefined);
    const t = (this.#o.monotonic ?? performance.now.bind(performance))();
    const prev = this.#prev;
    const elapsedSecs = prev ? Math.max(0.001, (t - prev.t) / 1000) : 0;

    const cores = stat?.cores.length ?? 0;
    const cpuDerived = stat && prev?.stat
      ? deriveCpu(prev.stat, stat, TICKS_PER_SEC)
      : stat
      ? zeroCpu(stat)
      : undefined;
    let cgroup: { usage_secs: number; utilization_pct: number } | null = null;
    if (cgroupSecs !== undefined) {
      cgroup = prev?.cgroupSecs !== undefined
        ? deriveCgroup(
          prev.cgroupSecs,
          cgroupSecs,
          elapsedSecs,
          Math.min(cores || Infinity, this.#quota ?? Infinity),
        )
        : { usage_secs: 0, utilization_pct: 0 };
    }
    const cpu: CpuSample = {
      utilization_pct: cpuDerived?.utilization_pct ?? 0,
      cgroup_usage_secs: cgroup?.usage_secs ?? null,
      cgroup_utilization_pct: cgroup?.utilization_pct ?? null,
      per_core_pct: cpuDerived?.per_core_pct ?? [],
      utime_secs: cpuDerived?.utime_secs ?? 0,
      stime_secs: cpuDerived?.stime_secs ?? 0,
      process_count: this.#guard("process count", () => this.#processes.next(), 0),
      process_cores_used: null,
      process_child_count: null,
      process_utime_secs: null,
      process_stime_secs: null,
      process_pss_mib: null,
      process_rss_mib: null,
      process_disk_read_bytes: null,
      process_disk_write_bytes: null,
      process_gpu_usage: null,
      process_gpu_vram_mib: null,
      process_gpu_utilized: null,
      process_unreadable_count: null,
    };

    let tree: ReadonlySet<number> | null = null;
    if (this.#process) {
      const p = this.#process;
      let hostBusyCores: number | undefined;
      if (stat && prev?.stat && busyTicks(prev.stat.total, stat.total).total > 0) {
        hostBusyCores = cpu.utilization_pct;
      }
      tree = this.#guard("process", () =>
        p.fill(cpu, {
          elapsedSecs,
          hostBusyCores,
          roundingSecs: Math.max(elapsedSecs, (actualIntervalMs ?? 0) / 1000),
          capCores: this.#quota ?? Math.max(1, cores),
          onlineCores: Math.max(1, cores),
          baseline: prev === undefined,
        }), new Set<number>());
    }

    const cgroupSample = this.#guard("cgroup limits", () => this.cgroups.sample(tree), null);
    if (this.cgroups.job) {
      this.#guard("job cgroup", () =>
        this.cgroups.fillProcess(cpu, {
          elapsedSecs,
          capCores: this.#quota ?? Math.max(1, cores),
          baseline: prev === undefined,
        }), undefined);
    }

    const memory = this.#guard("memory", () => {
      const m = readMeminfo(roots.proc);
      return m ? deriveMemory(m) : EMPTY_MEMORY;
    }, EMPTY_MEMORY);

    const net = this.#guard("network", () => readNetDev(roots.proc), undefined);
    const network = net
      ? this.#guard("network", () =>
        deriveNetwork(
          prev?.net,
          net,
          elapsedSecs,
          (name) => this.#netIds.get(name) ?? { mac_address: null, driver: null },
          (name) => readNetState(roots.sys, name),
        ), [])
      : [];

    const diskRead = this.#guard("disk", () => this.#disks.read(), undefined);
    const disk = diskRead
      ? this.#guard(
        "disk",
        () => deriveDisks(prev?.disk, diskRead.readings, elapsedSecs, this.#disks.identity),
        [],
      )
      : [];

    let gpu: GpuSample[] = [];
    if (this.#o.gpu) {
      const g = this.#o.gpu;
      const reading = this.#guard("gpu", () => g.read(tree, elapsedSecs), {
        devices: [],
        process: null,
      });
      gpu = reading.devices;
      if (reading.process) {
        cpu.process_gpu_usage = reading.process.usage;
        cpu.process_gpu_vram_mib = reading.process.vram_mib;
        cpu.process_gpu_utilized = reading.process.utilized;
      }
    }

    const meter = this.#o.energy;
    const energy = meter ? this.#guard("energy", () => meter.read(elapsedSecs, gpu), null) : null;

    this.#prev = { t, stat: stat ?? prev?.stat, cgroupSecs, net, disk: diskRead?.counters };
    return {
      timestamp_secs: Math.floor(wallMs / 1000),
      timestamp_ms: Math.floor(wallMs),
      ...(actualIntervalMs !== undefined ? { actual_interval_ms: actualIntervalMs } : {}),
      job_name: this.#o.jobName,
      tracked_pid: this.#process?.pid ?? null,
      cpu,
      memory,
      network,
      disk,
      gpu,
      cgroup: cgroupSample,
      ...(energy ? { energy } : {}),
      "resource-tracker-version": this.#o.version,
    };
  }
}
