import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { Sampler, type SamplerOptions } from "./sampler.ts";

const FIXTURE = new URL("../tests/fixtures/vm-basic", import.meta.url).pathname;

/** A writable copy of the fixture's counter files, so a test can step from t0 to t1. */
function stagedProc(): { proc: string; step(): void; cleanup(): void } {
  const dir = Deno.makeTempDirSync();
  const proc = `${dir}/proc`;
  Deno.mkdirSync(`${proc}/net`, { recursive: true });
  Deno.mkdirSync(`${proc}/self`, { recursive: true });
  Deno.mkdirSync(`${proc}/1`, { recursive: true });
  const files = ["stat", "meminfo", "net/dev", "diskstats"];
  for (const f of [...files, "self/mountinfo"]) {
    Deno.copyFileSync(`${FIXTURE}/proc/${f}`, `${proc}/${f}`);
  }
  return {
    proc,
    step: () => files.forEach((f) => Deno.copyFileSync(`${FIXTURE}/proc.t1/${f}`, `${proc}/${f}`)),
    cleanup: () => Deno.removeSync(dir, { recursive: true }),
  };
}

function cpuLine(path: string): number[] {
  return Deno.readTextFileSync(path).split("\n")[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
}

function field(path: string, dev: string, col: number): number {
  const line = Deno.readTextFileSync(path).split("\n").find((l) =>
    l.trim().split(/\s+/)[2] === dev
  )!;
  return Number(line.trim().split(/\s+/)[col]);
}

/** A sampler on the recorded fixture, without a job name, keeping its warnings in `warnings`. */
function fixtureSampler(warnings: string[], o: Partial<SamplerOptions>): Sampler {
  return new Sampler({
    roots: { proc: `${FIXTURE}/proc`, sys: `${FIXTURE}/sys`, root: `${FIXTURE}/root` },
    jobName: null,
    version: "test",
    warn: (l) => warnings.push(l),
    ...o,
  });
}

Deno.test("sampler: rates between the two recorded snapshots match hand-computed values", () => {
  const staged = stagedProc();
  let now = 5000;
  const warnings: string[] = [];
  try {
    const sampler = new Sampler({
      roots: { proc: staged.proc, sys: `${FIXTURE}/sys`, root: `${FIXTURE}/root` },
      jobName: "golden",
      version: "test",
      warn: (l) => warnings.push(l),
      monotonic: () => now,
    });
    const base = sampler.collect(1_700_000_000_000);
    strictEqual(base.cpu.utilization_pct, 0);
    staged.step();
    now += 1000;
    const s = sampler.collect(1_700_000_001_000, 1000);

    // CPU: busy share of the aggregate line × number of cpuN lines.
    const a = cpuLine(`${FIXTURE}/proc/stat`), b = cpuLine(`${FIXTURE}/proc.t1/stat`);
    const d = b.map((v, i) => v - a[i]!);
    const total = d.reduce((x, y) => x + y, 0);
    const busy = total - d[3]! - d[4]!;
    const cores = Deno.readTextFileSync(`${FIXTURE}/proc/stat`).split("\n").filter((l) =>
      /^cpu\d/.test(l)
    ).length;
    ok(Math.abs(s.cpu.utilization_pct - (busy / total) * cores) < 1e-9);
    ok(Math.abs(s.cpu.utime_secs - (d[0]! + d[1]!) / 100) < 1e-9);
    strictEqual(s.cpu.per_core_pct.length, cores);

    // Disk: Δsectors × 512 over the injected 1.000 s.
    const vda = s.disk.find((x) => x.device === "vda")!;
    const w = (field(`${FIXTURE}/proc.t1/diskstats`, "vda", 9) -
      field(`${FIXTURE}/proc/diskstats`, "vda", 9)) * 512;
    strictEqual(vda.write_bytes_per_sec, w);
    strictEqual(vda.write_bytes_total, field(`${FIXTURE}/proc.t1/diskstats`, "vda", 9) * 512);

    // Memory invariants and the contract's shape.
    ok(s.memory.used_mib + s.memory.available_mib <= s.memory.total_mib);
    ok(!s.network.some((n) => n.interface === "lo"));
    strictEqual(s.actual_interval_ms, 1000);
    strictEqual(s.job_name, "golden");
    strictEqual(s.tracked_pid, null);
    strictEqual(s.cpu.process_cores_used, null);
    strictEqual(s.cpu.process_count, 1);
    strictEqual(warnings.length, 0);
  } finally {
    staged.cleanup();
  }
});

Deno.test("sampler: a missing procfs gives empty parts and one warning per failing collector at most", () => {
  const warnings: string[] = [];
  const sampler = new Sampler({
    roots: { proc: "/nonexistent/proc", sys: "/nonexistent/sys", root: "/" },
    jobName: null,
    version: "test",
    warn: (l) => warnings.push(l),
  });
  sampler.collect(Date.now());
  const s = sampler.collect(Date.now(), 1000);
  strictEqual(s.cpu.utilization_pct, 0);
  strictEqual(s.memory.total_mib, 0);
  strictEqual(s.network.length, 0);
  strictEqual(s.disk.length, 0);
  strictEqual(warnings.length, 0); // "no data" is not an error
});

Deno.test("sampler: a throwing collector is reported once and the others go on", () => {
  const warnings: string[] = [];
  const sampler = fixtureSampler(warnings, {
    gpu: {
      read() {
        throw new Error("driver went away");
      },
    },
  });
  for (let i = 0; i < 3; i++) sampler.collect(Date.now(), 1000);
  strictEqual(warnings.length, 1);
  ok(warnings[0]!.includes("gpu collector failed: driver went away"));
  ok(sampler.collect(Date.now(), 1000).memory.total_mib > 0);
});

Deno.test("sampler: a derive that throws on every sample after a good read warns once", () => {
  // The read succeeds each time and must not re-arm the derive's warning (report once).
  const warnings: string[] = [];
  let reads = 0;
  const sampler = fixtureSampler(warnings, {
    process: {
      pid: 4242,
      readTimed: () => void reads++,
      fill() {
        throw new Error("tree vanished");
      },
    },
  });
  for (let i = 0; i < 4; i++) sampler.collect(Date.now(), i === 0 ? undefined : 1000);
  strictEqual(reads, 4);
  deepStrictEqual(warnings, ["process collector failed: tree vanished"]);
});
