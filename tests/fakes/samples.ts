/** Synthetic samples for sink tests: sample `i` has `timestamp_ms = BASE + i * 1000`. */
import { sleep } from "../../base/time.ts";
import { NO_PROCESS_TREE, type Sample } from "../../base/sample.ts";

export const BASE_MS = 1_775_000_000_000;

export function makeSample(i: number, trackedPid: number | null = null): Sample {
  const ms = BASE_MS + i * 1000;
  return {
    timestamp_secs: Math.floor(ms / 1000),
    timestamp_ms: ms,
    ...(i > 0 ? { actual_interval_ms: 1000 } : {}),
    job_name: "sink-test",
    tracked_pid: trackedPid,
    cpu: {
      utilization_pct: 1.5,
      cgroup_usage_secs: null,
      cgroup_utilization_pct: null,
      per_core_pct: [10, 20],
      utime_secs: 0.5,
      stime_secs: 0.25,
      process_count: 100 + i,
      ...NO_PROCESS_TREE,
    },
    memory: {
      total_mib: 4096,
      free_mib: 1024,
      available_mib: 2048,
      used_mib: 2048,
      used_pct: 50,
      buffers_mib: 10,
      cached_mib: 500,
      swap_total_mib: 0,
      swap_used_mib: 0,
      swap_used_pct: 0,
      active_mib: 700,
      inactive_mib: 300,
    },
    network: [],
    disk: [],
    gpu: [],
    "resource-tracker-version": "0.0.0-test",
  };
}

/** Sample indexes found in JSON Lines or CSV text (header lines are skipped). */
export function sampleIds(text: string): number[] {
  const ids: number[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("timestamp,")) continue;
    const ms = line.startsWith("{")
      ? (JSON.parse(line) as Sample).timestamp_ms
      : Math.round(Number(line.split(",")[0]) * 1000);
    ids.push(Math.round((ms - BASE_MS) / 1000));
  }
  return ids;
}

export const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

/** Polls `cond` every 10 ms until true or `ms` pass; returns whether it became true. */
export async function waitFor(cond: () => boolean, ms = 5_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await sleep(10);
  }
  return true;
}
