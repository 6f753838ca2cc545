/**
 * Soak run: `deno run -A scripts/soak.ts [--minutes 10] [--out dist/soak.json]`
 *
 * Tracks, at a 0.1 s interval, a tree in which short-lived processes start and exit
 * constantly, and checks the promises: no crash, no drift (last − first timestamp =
 * (n − 1) × interval within 0.5 s), no sample missing (no gap > 1.5 intervals), RSS flat
 * (the last tenth's median within 10% + 4 MiB of the second tenth's). Exits 1 when one fails.
 */
import { parseArgs } from "node:util";
import { sleep } from "../base/time.ts";
import { quantile, spawnTracker, statusKb, writeJson } from "./tracker_process.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    minutes: { type: "string", default: "10" },
    out: { type: "string", default: "dist/soak.json" },
  },
});
const minutes = Number(values.minutes);
const INTERVAL_MS = 100;
const dir = Deno.makeTempDirSync();
const samplesFile = `${dir}/samples.jsonl`;
const churn =
  "while :; do sh -c 'i=0; while [ $i -lt 300 ]; do i=$((i+1)); done' & sleep 0.03; done";

const child = spawnTracker(
  ["-i", "0.1", "-o", samplesFile, "--no-summary", "--", "sh", "-c", churn],
  "piped",
);

const rss: { t: number; mib: number }[] = [];
const end = Date.now() + minutes * 60_000;
while (Date.now() < end) {
  await sleep(5000);
  try {
    rss.push({ t: Date.now(), mib: statusKb(child.pid, "VmRSS") / 1024 });
  } catch {
    break; // the tracker died: reported below
  }
}
child.kill("SIGTERM");
const status = await child.status;
const stderr = new TextDecoder().decode(
  await new Response(child.stderr).arrayBuffer().catch(() => new ArrayBuffer(0)),
);

const lines = Deno.readTextFileSync(samplesFile).split("\n").filter(Boolean);
let partial = 0;
const ts: number[] = [];
let maxChildren = 0;
for (const l of lines) {
  try {
    const s = JSON.parse(l);
    ts.push(s.timestamp_ms);
    maxChildren = Math.max(maxChildren, s.cpu.process_child_count ?? 0);
  } catch {
    partial++;
  }
}
Deno.removeSync(dir, { recursive: true });
const span = ts.length > 1 ? ts[ts.length - 1]! - ts[0]! : 0;
const expected = (ts.length - 1) * INTERVAL_MS;
const gapsAt: { after_secs: number; ms: number }[] = [];
for (let i = 1; i < ts.length; i++) {
  const d = ts[i]! - ts[i - 1]!;
  if (d > 1.5 * INTERVAL_MS) {
    gapsAt.push({ after_secs: Math.round((ts[i - 1]! - ts[0]!) / 1000), ms: d });
  }
}
const gaps = gapsAt.length;
const median = (xs: number[]) => quantile(xs, 0.5);
const tenth = Math.max(1, Math.floor(rss.length / 10));
const early = median(rss.slice(tenth, 2 * tenth).map((r) => r.mib));
const late = median(rss.slice(-tenth).map((r) => r.mib));

const result = {
  minutes,
  exit_code: status.code,
  samples: ts.length,
  partial_lines: partial,
  drift_ms: span - expected,
  gaps_over_1_5_intervals: gaps,
  gaps_at: gapsAt.slice(0, 10),
  max_children_seen: maxChildren,
  rss_early_mib: early,
  rss_late_mib: late,
  rss_max_mib: Math.max(...rss.map((r) => r.mib)),
  /** RSS at the end of each minute, MiB: the shape shows a plateau or a leak. */
  rss_per_minute_mib: rss.filter((_, i) => (i + 1) % 12 === 0).map((r) =>
    Math.round(r.mib * 10) / 10
  ),
  stderr_lines: stderr.split("\n").filter(Boolean).length,
};
const ok = status.code === 143 && partial === 0 && Math.abs(result.drift_ms) <= 500 && gaps === 0 &&
  late <= early * 1.1 + 4;
console.log(JSON.stringify({ ...result, ok }, null, 2));
writeJson(values.out, { ...result, ok });
Deno.exit(ok ? 0 : 1);
