/** `resource-tracker host`: host facts (Sentinel wire names) as JSON. */
import { gpuFor, hostFacts } from "../core/run.ts";
import { writeAllSync } from "../base/log.ts";
import type { Config } from "./config.ts";
import { gpuSettings } from "./settings.ts";

export async function runHostCommand(
  config: Config,
  warn: (line: string) => void,
): Promise<number> {
  const gpu = await gpuFor(gpuSettings(config), config.roots, warn);
  const host = await hostFacts(config.roots, gpu);
  await gpu?.close();
  writeAllSync(Deno.stdout, JSON.stringify(host, null, 2) + "\n");
  return 0;
}
