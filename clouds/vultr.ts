/**
 * Vultr. DMI: `sys_vendor` `Vultr`. `/v1.json` with `instanceid` or `instance-v2-id`;
 * region from `region.regioncode`. No plan in the metadata.
 */
import { dmiIs } from "./dmi.ts";
import { clean, identify, isOk, parseJson, pick, request } from "./http.ts";
import type { CloudInfo, CloudProbe, DmiEvidence, DmiMatch, ProbeContext } from "./types.ts";

const PATH = "/v1.json";

function dmi(d: DmiEvidence): DmiMatch | undefined {
  return dmiIs(d, "sys_vendor", "Vultr") ? { evidence: `sys_vendor=${d.sys_vendor}` } : undefined;
}

async function lookup(ctx: ProbeContext): Promise<CloudInfo | undefined> {
  const r = await identify(request(ctx, PATH));
  if (r === undefined || !isOk(r.status)) return undefined;
  const doc = parseJson(r.text, PATH);
  if (clean(pick(doc, "instanceid")) === null && clean(pick(doc, "instance-v2-id")) === null) {
    return undefined;
  }
  return {
    cloud_vendor_id: "vultr",
    cloud_account_id: null,
    cloud_region_id: clean(pick(doc, "region", "regioncode")),
    cloud_zone_id: null,
    cloud_instance_type: null,
  };
}

export const vultr: CloudProbe = {
  id: "vultr",
  name: "Vultr",
  defaultBaseUrl: "http://169.254.169.254",
  race: true,
  dmi,
  lookup,
};
