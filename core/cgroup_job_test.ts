/**
 * The job cgroup itself, live (root with a writable cgroup hierarchy; skipped otherwise): the
 * command is in the new cgroup from its first instruction, the tracker is not, the cgroup goes
 * away at the end. Both hierarchies where the host has them (v2 via a hybrid host's `unified`).
 */
import { ok, strictEqual } from "node:assert/strict";
import { exists } from "../base/path.ts";
import { readCgroupStats } from "../collectors/cgroup_stats.ts";
import { JobCgroup } from "./cgroup_job.ts";

function attempt(preferV2: boolean): JobCgroup | string {
  if (Deno.uid() !== 0) return "not root";
  return JobCgroup.create({ preferV2 });
}

async function firstCgroupOfChild(job: JobCgroup): Promise<string> {
  // `cat` reads its own cgroup file as its first act: it shows where the command was born.
  const c = (() => {
    const cmd = new Deno.Command("cat", { args: ["/proc/self/cgroup"], stdout: "piped" });
    job.enter();
    try {
      return cmd.spawn();
    } finally {
      job.leave();
    }
  })();
  const out = await c.output();
  return new TextDecoder().decode(out.stdout);
}

for (const v2 of [false, true]) {
  const made = attempt(v2);
  if (typeof made === "string") {
    console.log(`job cgroup (${v2 ? "v2" : "v1"}) test skipped: ${made}`);
  } else await made.remove();
  Deno.test({
    name: `job cgroup (${v2 ? "v2" : "v1"}): born inside, tracker outside, CPU counted, removed`,
    ignore: typeof made === "string" || (v2 && made.dirs.version !== 2),
    fn: async () => {
      const job = attempt(v2) as JobCgroup;
      const name = job.dirs.path.split("/").pop()!;
      try {
        const seen = await firstCgroupOfChild(job);
        ok(seen.includes(name), seen);
        ok(!Deno.readTextFileSync("/proc/self/cgroup").includes(name), "tracker left");
        // A child that burns CPU: the cgroup's own counter sees it.
        const busy = (() => {
          const cmd = new Deno.Command("sh", {
            args: ["-c", "i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done"],
          });
          job.enter();
          try {
            return cmd.spawn();
          } finally {
            job.leave();
          }
        })();
        await busy.status;
        const psi = { dir: job.dirs.unified ?? "/proc/pressure", host: !v2 };
        const r = readCgroupStats(job.dirs, psi, { limits: true, usage: true });
        ok((r.usage_us ?? 0) > 5000, `usage ${r.usage_us} µs`);
        if (v2) ok(r.psi_cpu !== undefined, "a v2 cgroup has its own PSI");
        strictEqual(job.pids().length, 0);
      } finally {
        await job.remove();
      }
      for (const d of [job.dirs.unified, job.dirs.memory, job.dirs.cpuacct]) {
        if (d) ok(!exists(d), `${d} removed`);
      }
    },
  });
}
