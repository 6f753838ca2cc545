import { deepStrictEqual, throws } from "node:assert/strict";
import { loadConfig } from "./config.ts";
import { costSettings, flushSettings, sinkSettings, trackSettings } from "./settings.ts";

const load = (args: string[], env: Record<string, string> = {}) =>
  loadConfig({
    args,
    env: (n) => env[n],
    subcommands: [],
    readFile: (p) => {
      throw new Deno.errors.NotFound(p);
    },
    warn: () => {},
  });

Deno.test("track settings: the registry's defaults, typed, one section per area", () => {
  const s = trackSettings(load([]));
  deepStrictEqual(s.sampling, {
    intervalSecs: 1,
    samples: null,
    pid: null,
    roots: { proc: "/proc", sys: "/sys", root: "/" },
  });
  deepStrictEqual({ ...s.job, metadata: {} }, {
    command: [],
    metadata: {},
    tags: {},
    cgroup: false,
    memoryMax: null,
    cpuMax: null,
    waitDescendants: false,
  });
  deepStrictEqual(s.cloud, { disabled: false, only: null });
  deepStrictEqual(s.gpu, { disabled: false, nvidiaSmi: "nvidia-smi" });
  deepStrictEqual(s.summary, { quiet: false, jsonPath: null });
  deepStrictEqual(s.sinks.uris, []);
});

Deno.test("track settings: flags and variables reach their section", () => {
  const s = trackSettings(
    load([
      "-i",
      "0.5",
      "--cgroup",
      "--memory-max",
      "1G",
      "--cpu-max",
      "1.5",
      "--wait-descendants",
      "--cloud",
      "aws",
      "--summary-json",
      "s.json",
      "-n",
      "nightly",
      "--tag",
      "team=infra",
      "--",
      "make",
    ], { TRACKER_NO_GPU: "1", TRACKER_NO_SUMMARY: "yes", TRACKER_NVIDIA_SMI: "/opt/smi" }),
  );
  deepStrictEqual(s.sampling.intervalSecs, 0.5);
  deepStrictEqual(
    { ...s.job, metadata: s.job.metadata.job_name },
    {
      command: ["make"],
      metadata: "nightly",
      tags: { team: "infra" },
      cgroup: true,
      memoryMax: 1024 ** 3,
      cpuMax: 1.5,
      waitDescendants: true,
    },
  );
  deepStrictEqual(s.cloud, { disabled: false, only: "aws" });
  deepStrictEqual(s.gpu, { disabled: true, nvidiaSmi: "/opt/smi" });
  deepStrictEqual(s.summary, { quiet: true, jsonPath: "s.json" });
});

Deno.test("cost settings: defaults and values", () => {
  deepStrictEqual(costSettings(load([])), {
    priceTablePath: null,
    pricePerHour: null,
    currency: "USD",
    pricePerKwh: null,
    gridGPerKwh: 475,
    vcpuWatts: [0.74, 3.5],
  });
  deepStrictEqual(
    costSettings(load(["--price-per-hour", "0.4", "--currency", "EUR", "--vcpu-watts", "1,4"])),
    {
      priceTablePath: null,
      pricePerHour: 0.4,
      currency: "EUR",
      pricePerKwh: null,
      gridGPerKwh: 475,
      vcpuWatts: [1, 4],
    },
  );
});

const loadFlush = (args: string[], env: Record<string, string> = {}) =>
  loadConfig({
    args,
    env: (n) => env[n],
    subcommands: ["flush"],
    readFile: (p) => {
      throw new Deno.errors.NotFound(p);
    },
    warn: () => {},
  });

Deno.test("sink settings: the registry's defaults, then flags and variables, typed", () => {
  deepStrictEqual(sinkSettings(loadFlush([])), {
    uris: [],
    output: null,
    format: "json",
    quiet: false,
    intervalSecs: 1,
    maxSizeBytes: null,
    maxFiles: 5,
    uploadIntervalSecs: 60,
    spoolDir: null,
    flushTimeoutSecs: 10,
    httpTokenEnv: "TRACKER_HTTP_TOKEN",
    live: false,
    listen: null,
  });
  const s = sinkSettings(
    loadFlush(["--sink", "a.jsonl", "--sink", "s3://b/p", "--max-size", "10M", "--live"], {
      TRACKER_FLUSH_TIMEOUT: "3",
      TRACKER_HTTP_TOKEN_ENV: "MY_TOKEN",
    }),
  );
  deepStrictEqual(
    [s.uris, s.maxSizeBytes, s.live, s.flushTimeoutSecs, s.httpTokenEnv],
    [["a.jsonl", "s3://b/p"], 10 * 1048576, true, 3, "MY_TOKEN"],
  );
  deepStrictEqual(flushSettings(loadFlush(["flush", "--drop", "x", "--list"])), {
    list: true,
    drop: ["x"],
    allRejected: false,
  });
});

Deno.test("sink settings: flush's own options are usage errors outside `flush`", () => {
  throws(() => sinkSettings(loadFlush(["--list"])), /--list belongs to `resource-tracker flush`/);
  throws(() => sinkSettings(loadFlush(["--drop", "x"])), /--drop belongs to/);
  deepStrictEqual(sinkSettings(loadFlush(["flush", "--all-rejected"])).uris, []);
});
