import { strictEqual } from "node:assert/strict";
import {
  deriveCgroup,
  detectCgroup,
  parseCpuMax,
  parseCpuStatUsage,
  readCgroupUsageSecs,
  readQuotaCores,
} from "./cgroup.ts";

Deno.test("parseCpuStatUsage and parseCpuMax", () => {
  strictEqual(parseCpuStatUsage("usage_usec 1500000\nuser_usec 1\n"), 1500000);
  strictEqual(parseCpuStatUsage(""), undefined);
  strictEqual(parseCpuStatUsage("usage_usec abc"), undefined);
  strictEqual(parseCpuMax("200000 100000\n"), 2);
  strictEqual(parseCpuMax("max 100000\n"), undefined);
  strictEqual(parseCpuMax(""), undefined);
  strictEqual(parseCpuMax("garbage"), undefined);
});

Deno.test("deriveCgroup caps utilisation at the effective cores and never goes negative", () => {
  const d = deriveCgroup(10, 14, 1, 2);
  strictEqual(d.usage_secs, 4);
  strictEqual(d.utilization_pct, 2);
  strictEqual(deriveCgroup(10, 9, 1, 2).usage_secs, 0);
});

Deno.test("detectCgroup prefers v2, falls back to v1, else none", () => {
  const dir = Deno.makeTempDirSync();
  try {
    strictEqual(detectCgroup(dir).kind, "none");
    Deno.mkdirSync(`${dir}/fs/cgroup/cpuacct`, { recursive: true });
    Deno.writeTextFileSync(`${dir}/fs/cgroup/cpuacct/cpuacct.usage`, "2500000000\n");
    const v1 = detectCgroup(dir);
    strictEqual(v1.kind, "v1");
    strictEqual(readCgroupUsageSecs(v1), 2.5);
    Deno.mkdirSync(`${dir}/fs/cgroup/cpu`, { recursive: true });
    Deno.writeTextFileSync(`${dir}/fs/cgroup/cpu/cpu.cfs_quota_us`, "150000\n");
    Deno.writeTextFileSync(`${dir}/fs/cgroup/cpu/cpu.cfs_period_us`, "100000\n");
    strictEqual(readQuotaCores(dir), 1.5);
    Deno.writeTextFileSync(`${dir}/fs/cgroup/cpu.stat`, "usage_usec 3000000\n");
    Deno.writeTextFileSync(`${dir}/fs/cgroup/cpu.max`, "max 100000\n");
    const v2 = detectCgroup(dir);
    strictEqual(v2.kind, "v2");
    strictEqual(readCgroupUsageSecs(v2), 3);
    strictEqual(readQuotaCores(dir), undefined);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
