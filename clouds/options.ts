/**
 * The cloud options, spread into OPTIONS (cli/options.ts), and the valid `--cloud` values. Loads
 * no probe: the CLI checks `--cloud` before anything else runs.
 */
import { oneOf, type OptionDef } from "../base/option.ts";

/** Provider ids in `PROBES` order (clouds/mod.ts re-exports this list; a test keeps them equal). */
export const CLOUD_IDS: readonly string[] = [
  "aws",
  "gcp",
  "azure",
  "hcloud",
  "upcloud",
  "vultr",
  "alicloud",
  "ovh",
  "digitalocean",
  "oracle",
  "linode",
  "scaleway",
];

export const CLOUD_OPTIONS: readonly OptionDef[] = [
  {
    name: "no-cloud",
    type: "boolean",
    env: "TRACKER_NO_CLOUD",
    toml: ["cloud.disabled"],
    default: false,
    help: "No cloud discovery: not a single packet to metadata services.",
  },
  {
    name: "cloud",
    type: "string",
    env: "TRACKER_CLOUD",
    toml: ["cloud.provider"],
    metavar: "ID",
    help: `Skip detection and ask only this provider (${CLOUD_IDS.join(", ")}).`,
    check: oneOf(CLOUD_IDS),
  },
];
