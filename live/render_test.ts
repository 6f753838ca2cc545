/** The `--live` screen: fits the terminal, shows tree rates per second, keeps the destinations. */
import { equal, match, ok } from "node:assert/strict";
import type { Sample } from "../base/sample.ts";
import { makeSample } from "../tests/fakes/samples.ts";
import { type LiveState, renderLive } from "./render.ts";

const ST: LiveState = {
  version: "1.0.0",
  jobName: "etl",
  elapsedSecs: 3725,
  samples: 12,
  intervalSecs: 0.5,
  treeUserSecs: 4.25,
  treeSystemSecs: 1,
  treeReadBytes: 3 * 1048576,
  treeWriteBytes: 0,
  destinations: ["run.jsonl", "otlp+http://127.0.0.1:4318"],
};

function tree(): Sample {
  const s = makeSample(1, 77);
  return {
    ...s,
    actual_interval_ms: 500,
    cpu: {
      ...s.cpu,
      process_cores_used: 1.25,
      process_child_count: 2,
      process_pss_mib: 10,
      process_rss_mib: 12,
      process_disk_read_bytes: 1048576, // in 0.5 s
      process_disk_write_bytes: 0,
    },
  };
}

Deno.test("live view: header, tree rates per second, destinations last, cut to the terminal", () => {
  const lines = renderLive(tree(), ST, 80, 24);
  match(
    lines[0]!,
    /^resource-tracker 1\.0\.0 {2}job etl {2}elapsed 01:02:05 {2}every 0\.5 s {2}samples 12$/,
  );
  ok(lines.some((l) => l.startsWith("Host  CPU  1.50 of 2 cores [###############.....] 75%")));
  ok(lines.some((l) => /I\/O {2}read 3\.0 MiB, written 0 B \(2\.0 MiB\/s \/ 0 B\/s now\)/.test(l)));
  equal(lines.at(-1), "Out   run.jsonl, otlp+http://127.0.0.1:4318");
  for (const l of renderLive(tree(), ST, 40, 8)) ok([...l].length <= 40, l);
  const short = renderLive(tree(), ST, 80, 8);
  equal(short.length, 8);
  equal(short.at(-1), lines.at(-1));
  match(renderLive(null, ST, 80, 24).join("\n"), /waiting for the first sample/);
});
