/**
 * Hetzner Cloud. DMI: `sys_vendor` `Hetzner`. Metadata is YAML-ish `key: value` lines at
 * `/hetzner/v1/metadata`. It has no server type, so `cloud_instance_type` stays null (both
 * references put the numeric `instance-id` there; Part A says not to).
 */
import { dmiIs } from "./dmi.ts";
import { clean, identify, isOk, request } from "./http.ts";
import type { CloudInfo, CloudProbe, DmiEvidence, DmiMatch, ProbeContext } from "./types.ts";

const PATH = "/hetzner/v1/metadata";

function dmi(d: DmiEvidence): DmiMatch | undefined {
  return dmiIs(d, "sys_vendor", "Hetzner") ? { evidence: `sys_vendor=${d.sys_vendor}` } : undefined;
}

/** Top-level `key: value` pairs; nested blocks and list items are skipped. */
export function parseHetznerMetadata(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^([A-Za-z0-9_-]+):[ \t]*(.*?)\s*$/.exec(line);
    if (m === null) continue;
    const [, key = "", raw = ""] = m;
    out.set(key, raw.replace(/^(["'])(.*)\1$/, "$2"));
  }
  return out;
}

async function lookup(ctx: ProbeContext): Promise<CloudInfo | undefined> {
  const r = await identify(request(ctx, PATH));
  if (r === undefined || !isOk(r.status)) return undefined;
  const meta = parseHetznerMetadata(r.text);
  const instanceId = clean(meta.get("instance-id"));
  const region = clean(meta.get("region"));
  if (instanceId === null && region === null) return undefined;
  return {
    cloud_vendor_id: "hcloud",
    cloud_account_id: null,
    cloud_region_id: region,
    cloud_zone_id: clean(meta.get("availability-zone")),
    cloud_instance_type: null,
  };
}

export const hcloud: CloudProbe = {
  id: "hcloud",
  name: "Hetzner Cloud",
  defaultBaseUrl: "http://169.254.169.254",
  race: true,
  dmi,
  lookup,
};
