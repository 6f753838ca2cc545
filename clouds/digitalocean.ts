/**
 * DigitalOcean. DMI: `sys_vendor` `DigitalOcean`. `/metadata/v1.json` (docs.digitalocean.com,
 * Droplet metadata) with a numeric `droplet_id` and `region` (`nyc3`). No size, no account.
 */
import { dmiIs } from "./dmi.ts";
import { clean, identify, isOk, parseJson, pick, request } from "./http.ts";
import type { CloudInfo, CloudProbe, DmiEvidence, DmiMatch, ProbeContext } from "./types.ts";

const PATH = "/metadata/v1.json";

function dmi(d: DmiEvidence): DmiMatch | undefined {
  return dmiIs(d, "sys_vendor", "DigitalOcean")
    ? { evidence: `sys_vendor=${d.sys_vendor}` }
    : undefined;
}

async function lookup(ctx: ProbeContext): Promise<CloudInfo | undefined> {
  const r = await identify(request(ctx, PATH));
  if (r === undefined || !isOk(r.status)) return undefined;
  const doc = parseJson(r.text, PATH);
  if (typeof pick(doc, "droplet_id") !== "number") return undefined;
  return {
    cloud_vendor_id: "digitalocean",
    cloud_account_id: null,
    cloud_region_id: clean(pick(doc, "region")),
    cloud_zone_id: null,
    cloud_instance_type: null,
  };
}

export const digitalocean: CloudProbe = {
  id: "digitalocean",
  name: "DigitalOcean",
  defaultBaseUrl: "http://169.254.169.254",
  race: true,
  dmi,
  lookup,
};
