/** `resource-tracker cloud`: runs discovery once and prints it as pretty JSON. */
import { discoverCloud, type DiscoverOptions } from "../clouds/mod.ts";

export async function runCloudCommand(
  opts: DiscoverOptions,
  write: (line: string) => void,
): Promise<number> {
  const discovery = await discoverCloud(opts);
  for (const line of JSON.stringify(discovery, null, 2).split("\n")) write(line);
  return 0;
}
