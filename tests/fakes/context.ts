/**
 * A SinkContext (and the `flush` command's context) for tests: settings from argv through the
 * CLI's own resolution, env from a record.
 */
import { type Config, loadConfig } from "../../cli/config.ts";
import type { FlushContext } from "../../cli/flush.ts";
import { flushSettings, sinkSettings } from "../../cli/settings.ts";
import type { RunInfo, SinkContext } from "../../sinks/mod.ts";

export interface TestContext extends SinkContext, FlushContext {
  warnings: string[];
  infos: string[];
}

function testConfig(args: string[], env: Record<string, string> = {}): Config {
  return loadConfig({
    args,
    env: (n) => env[n],
    subcommands: ["flush"],
    readFile: () => {
      throw new Deno.errors.NotFound("no config");
    },
    warn: () => {},
  });
}

export const TEST_RUN: RunInfo = {
  metadata: { job_name: "sink-test", project_name: null },
  tags: { team: "infra", stage: "ci" },
  command: ["stress", "--cpu", "4"],
  host: () => Promise.resolve({ host_hostname: "box", host_vcpus: 2, host_gpu_count: null }),
  cloud: () =>
    Promise.resolve({
      cloud_vendor_id: null,
      cloud_account_id: null,
      cloud_region_id: null,
      cloud_zone_id: null,
      cloud_instance_type: null,
    }),
};

export function testContext(
  args: string[],
  env: Record<string, string> = {},
  run: RunInfo = TEST_RUN,
): TestContext {
  const warnings: string[] = [];
  const infos: string[] = [];
  const config = testConfig(["--quiet", ...args], env);
  return {
    settings: sinkSettings(config),
    flush: flushSettings(config),
    env: (n) => env[n],
    warn: (l) => warnings.push(l),
    info: (l) => infos.push(l),
    run,
    warnings,
    infos,
  };
}
