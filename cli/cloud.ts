/** `resource-tracker cloud`: runs discovery once and prints it as pretty JSON. */
import { discoverCloud, type DiscoverOptions } from "../clouds/mod.ts";
import { writeAllSync } from "../base/log.ts";
import type { Config } from "./config.ts";
import { cloudSettings } from "./settings.ts";

/** The subcommand as main.ts dispatches it: `--cloud`, `--no-cloud`, `--sysfs`. */
export function cloudCommand(
  config: Config,
  env: (name: string) => string | undefined,
): Promise<number> {
  const { disabled, only } = cloudSettings(config);
  return runCloudCommand(
    { sys: config.roots.sys, env, disabled, ...(only ? { only } : {}) },
    (line) => writeAllSync(Deno.stdout, line + "\n"),
  );
}

export async function runCloudCommand(
  opts: DiscoverOptions,
  write: (line: string) => void,
): Promise<number> {
  const discovery = await discoverCloud(opts);
  for (const line of JSON.stringify(discovery, null, 2).split("\n")) write(line);
  return 0;
}
