/**
 * Scaleway. DMI: `sys_vendor` `Scaleway`. Metadata at 169.254.42.42 `/conf?format=json`
 * (cloud-init, afterburn): `commercial_type` (`DEV1-S`) and `location.zone_id` (`fr-par-1`);
 * the region is the zone without its last part.
 */
import { dmiIs } from "./dmi.ts";
import { clean, dropLastDashPart, identify, isOk, parseJson, pick, request } from "./http.ts";
import type { CloudInfo, CloudProbe, DmiEvidence, DmiMatch, ProbeContext } from "./types.ts";

const PATH = "/conf?format=json";

function dmi(d: DmiEvidence): DmiMatch | undefined {
  return dmiIs(d, "sys_vendor", "Scaleway")
    ? { evidence: `sys_vendor=${d.sys_vendor}` }
    : undefined;
}

async function lookup(ctx: ProbeContext): Promise<CloudInfo | undefined> {
  const r = await identify(request(ctx, PATH));
  if (r === undefined || !isOk(r.status)) return undefined;
  const doc = parseJson(r.text, "/conf");
  const type = clean(pick(doc, "commercial_type"));
  if (type === null) return undefined;
  const zone = clean(pick(doc, "location", "zone_id"));
  return {
    cloud_vendor_id: "scaleway",
    cloud_account_id: null,
    cloud_region_id: zone === null ? null : dropLastDashPart(zone),
    cloud_zone_id: zone,
    cloud_instance_type: type,
  };
}

export const scaleway: CloudProbe = {
  id: "scaleway",
  name: "Scaleway",
  defaultBaseUrl: "http://169.254.42.42",
  race: true,
  dmi,
  lookup,
};
