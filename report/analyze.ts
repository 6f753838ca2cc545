/** A recording's usage for right-sizing: the same UsageBuilder the live summary feeds. */
import { type CostResult, type PriceRow, runCost } from "./cost.ts";
import { type EnergySettings, type RunEnergy, runEnergy } from "./energy.ts";
import { recommend, type Recommendation } from "./recommend.ts";
import { readRecording } from "./read.ts";
import { n, type Recording } from "./series.ts";
import { type RunStats, runStats } from "./stats.ts";
import { type Usage, UsageBuilder } from "./usage.ts";

export function usageOf(r: Recording): Usage {
  const c = r.cols;
  const proc = r.tracked && c.procCores.some(Number.isFinite);
  const b = new UsageBuilder(proc ? "process tree" : "host");
  const procIo = proc && c.procReadBps.some(Number.isFinite);
  const procGpu = proc && c.procGpuUsage.some(Number.isFinite);
  for (let i = 0; i < c.t.length; i++) {
    const pr = c.procReadBps[i]!, pw = c.procWriteBps[i]!;
    b.add({
      dt: c.dt[i]!,
      cores: proc ? c.procCores[i]! : c.hostCores[i]!,
      hostCores: c.hostCores[i]!,
      memMib: proc ? c.procPssMib[i]! : c.hostMemUsedMib[i]!,
      swapMib: c.swapUsedMib[i]!,
      diskBps: procIo
        ? (pr || 0) + (pw || 0)
        : (c.diskReadBps[i]! || 0) + (c.diskWriteBps[i]! || 0),
      netBps: (c.netRxBps[i]! || 0) + (c.netTxBps[i]! || 0),
      gpuUsage: procGpu ? c.procGpuUsage[i]! : c.gpuUsage[i]!,
      gpuVramMib: procGpu ? c.procGpuVramMib[i]! : c.gpuVramMib[i]!,
      gpuUtilized: c.procGpuUtilized[i]!,
      vcpus: NaN,
      hostMemMib: NaN,
    });
  }
  const limit = n(r.run?.memory_limit_mib);
  return b.build({
    vcpus: r.host.vcpus,
    cpuLimitCores: n(r.run?.cpu_quota_cores) > 0 ? n(r.run?.cpu_quota_cores) : null,
    memoryMib: r.host.memoryMib,
    memoryLimitMib: limit > 0 && (!r.host.memoryMib || limit < r.host.memoryMib) ? limit : null,
    gpuCount: r.host.gpuCount,
    gpuMemoryMib: r.host.gpuMemoryMib,
  });
}

export interface Analysis {
  rec: Recording;
  stats: RunStats;
  recommendation: Recommendation;
  cost: CostResult;
  energy: RunEnergy;
  /** For a Python-tracker CSV: what that tracker itself would recommend. */
  pythonNote: string | null;
}

export interface AnalysisSettings {
  energy: EnergySettings;
  pricePerHour: number | null;
  priceTable: PriceRow[] | null;
  currency: string;
}

export async function analyze(files: readonly string[], s: AnalysisSettings): Promise<Analysis> {
  const rec = await readRecording(files);
  const stats = runStats(rec);
  const recommendation = recommend(usageOf(rec));
  const cloud = rec.run?.cloud ?? {};
  const cost = runCost({
    durationSecs: stats.durationSecs,
    pricePerHour: s.pricePerHour,
    table: s.priceTable,
    vendor: (cloud.cloud_vendor_id as string | null | undefined) ?? null,
    instanceType: (cloud.cloud_instance_type as string | null | undefined) ?? null,
    host: { vcpus: rec.host.vcpus, memoryMib: rec.host.memoryMib },
    rec: recommendation,
    currency: s.currency,
  });
  let pythonNote: string | null = null;
  if (rec.format === "python-csv") {
    const { pythonRecommendation } = await import("./python_rule.ts");
    const py = pythonRecommendation(stats.cores.mean, stats.memoryMib.max);
    pythonNote =
      `the Python tracker's recommend_resources() would say ${py.vcpus} vCPU(s) and ${py.memoryMib} MiB for this run (its memory rule divides a MiB figure by 1024 again)`;
  }
  return { rec, stats, recommendation, cost, energy: runEnergy(rec, s.energy), pythonNote };
}
