/**
 * What right-sizing needs from a run, gathered one sample at a time in constant memory: a
 * time-weighted histogram of cores (0.01-core bins) and peaks. The live run (report/summary.ts)
 * and the `report` command feed the same builder, so the terminal and the report agree.
 */

/** Time-weighted histogram with fixed-width bins; quantiles to the bin width. */
export class Histogram {
  readonly #bins = new Map<number, number>();
  #total = 0;
  constructor(readonly width: number) {}

  add(x: number, w: number): void {
    if (!Number.isFinite(x) || !(w > 0)) return;
    const b = Math.round(Math.max(0, x) / this.width);
    this.#bins.set(b, (this.#bins.get(b) ?? 0) + w);
    this.#total += w;
  }

  get total(): number {
    return this.#total;
  }

  /** Smallest value v with at least q of the time at or below v (NaN when empty). */
  quantile(q: number): number {
    if (this.#total <= 0) return NaN;
    const keys = [...this.#bins.keys()].sort((a, b) => a - b);
    let acc = 0;
    for (const k of keys) {
      acc += this.#bins.get(k)!;
      if (acc >= q * this.#total - 1e-9) return k * this.width;
    }
    return keys[keys.length - 1]! * this.width;
  }

  /** Share (0..1) of the time at or above x, and the time-weighted mean of those values. */
  above(x: number): { share: number; mean: number } {
    if (this.#total <= 0) return { share: 0, mean: NaN };
    let w = 0, s = 0;
    for (const [k, v] of this.#bins) {
      if (k * this.width >= x - this.width / 2) {
        w += v;
        s += k * this.width * v;
      }
    }
    return { share: w / this.#total, mean: w > 0 ? s / w : NaN };
  }
}

/** One sample's figures; NaN where unknown. */
export interface UsagePoint {
  /** Seconds covered. */
  dt: number;
  /** The subject's CPU (tree when tracked, else host), fractional cores. */
  cores: number;
  /** Host CPU, fractional cores (equal to cores when nothing is tracked). */
  hostCores: number;
  /** The subject's memory (tree PSS when tracked, else host used), MiB. */
  memMib: number;
  swapMib: number;
  /** Disk read + write, bytes per second (tree when tracked and known, else host). */
  diskBps: number;
  netBps: number;
  gpuUsage: number;
  gpuVramMib: number;
  gpuUtilized: number;
  /** Host size as seen by this sample. */
  vcpus: number;
  hostMemMib: number;
}

export interface Usage {
  durationSecs: number;
  subject: "process tree" | "host";
  cores: { mean: number; p95: number; max: number; hist: Histogram };
  /** Time-weighted mean of the host's CPU, fractional cores, and its histogram. */
  hostCoresMean: number;
  hostHist: Histogram;
  memPeakMib: number;
  swapPeakMib: number;
  diskBytes: number;
  diskPeakBps: number;
  netBytes: number;
  gpu: { mean: number; p95: number; max: number; vramPeakMib: number; utilizedPeak: number } | null;
  host: {
    vcpus: number | null;
    /** CFS quota in cores (cgroup cpu.max / cfs_quota_us ÷ period), null without one. */
    cpuLimitCores: number | null;
    memoryMib: number | null;
    memoryLimitMib: number | null;
    gpuCount: number | null;
    gpuMemoryMib: number | null;
  };
}

export class UsageBuilder {
  readonly #cores = new Histogram(0.01);
  readonly #gpu = new Histogram(0.01);
  readonly #host = new Histogram(0.01);
  #dur = 0;
  #cpuSecs = 0;
  #hostSecs = 0;
  #hostDur = 0;
  #coresMax = NaN;
  #mem = NaN;
  #swap = NaN;
  #disk = 0;
  #diskPeak = 0;
  #net = 0;
  #gpuSeen = false;
  #gpuMax = NaN;
  #gpuSecs = 0;
  #vram = NaN;
  #utilized = NaN;
  #vcpus = NaN;
  #hostMem = NaN;

  constructor(readonly subject: Usage["subject"]) {}

  add(p: UsagePoint): void {
    const dt = p.dt > 0 ? p.dt : 0;
    this.#dur += dt;
    if (Number.isFinite(p.cores)) {
      this.#cores.add(p.cores, dt);
      this.#cpuSecs += p.cores * dt;
      this.#coresMax = max(this.#coresMax, p.cores);
    }
    if (Number.isFinite(p.hostCores)) {
      this.#host.add(p.hostCores, dt);
      this.#hostSecs += p.hostCores * dt;
      this.#hostDur += dt;
    }
    this.#mem = max(this.#mem, p.memMib);
    this.#swap = max(this.#swap, p.swapMib);
    if (Number.isFinite(p.diskBps)) {
      this.#disk += p.diskBps * dt;
      this.#diskPeak = Math.max(this.#diskPeak, p.diskBps);
    }
    if (Number.isFinite(p.netBps)) this.#net += p.netBps * dt;
    if (Number.isFinite(p.gpuUsage) || Number.isFinite(p.gpuVramMib)) {
      this.#gpuSeen = true;
      const u = Number.isFinite(p.gpuUsage) ? p.gpuUsage : 0;
      this.#gpu.add(u, dt);
      this.#gpuSecs += u * dt;
      this.#gpuMax = max(this.#gpuMax, u);
      this.#vram = max(this.#vram, p.gpuVramMib);
      this.#utilized = max(this.#utilized, p.gpuUtilized);
    }
    this.#vcpus = max(this.#vcpus, p.vcpus);
    this.#hostMem = max(this.#hostMem, p.hostMemMib);
  }

  build(host: Partial<Usage["host"]> = {}): Usage {
    const d = this.#dur;
    const known = (x: number) => (Number.isFinite(x) && x > 0 ? x : null);
    return {
      durationSecs: d,
      subject: this.subject,
      cores: {
        mean: d > 0 ? this.#cpuSecs / d : NaN,
        p95: this.#cores.quantile(0.95),
        max: this.#coresMax,
        hist: this.#cores,
      },
      hostCoresMean: this.#hostDur > 0 ? this.#hostSecs / this.#hostDur : NaN,
      hostHist: this.#host,
      memPeakMib: this.#mem,
      swapPeakMib: this.#swap,
      diskBytes: this.#disk,
      diskPeakBps: this.#diskPeak,
      netBytes: this.#net,
      gpu: this.#gpuSeen
        ? {
          mean: d > 0 ? this.#gpuSecs / d : NaN,
          p95: this.#gpu.quantile(0.95),
          max: this.#gpuMax,
          vramPeakMib: this.#vram,
          utilizedPeak: this.#utilized,
        }
        : null,
      host: {
        vcpus: host.vcpus ?? known(this.#vcpus),
        cpuLimitCores: host.cpuLimitCores ?? null,
        memoryMib: host.memoryMib ?? known(this.#hostMem),
        memoryLimitMib: host.memoryLimitMib ?? null,
        gpuCount: host.gpuCount ?? null,
        gpuMemoryMib: host.gpuMemoryMib ?? null,
      },
    };
  }
}

function max(a: number, b: number): number {
  if (!Number.isFinite(b)) return a;
  return Number.isFinite(a) ? Math.max(a, b) : b;
}
