/** A recording's usage for right-sizing: the same UsageBuilder the live summary feeds. */
import { n, type Recording } from "./series.ts";
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
