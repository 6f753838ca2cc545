/**
 * UpCloud. DMI: `sys_vendor` `UpCloud`. `/metadata/v1.json` with `cloud_name == "upcloud"`
 * (DigitalOcean serves the same path, without that field). No plan in the metadata.
 */
import { dmiIs } from "./dmi.ts";
import { clean, identify, isOk, parseJson, pick, request } from "./http.ts";
import type { CloudInfo, CloudProbe, DmiEvidence, DmiMatch, ProbeContext } from "./types.ts";

const PATH = "/metadata/v1.json";

function dmi(d: DmiEvidence): DmiMatch | undefined {
  return dmiIs(d, "sys_vendor", "UpCloud") ? { evidence: `sys_vendor=${d.sys_vendor}` } : undefined;
}

async function lookup(ctx: ProbeContext): Promise<CloudInfo | undefined> {
  const r = await identify(request(ctx, PATH));
  if (r === undefined || !isOk(r.status)) return undefined;
  const doc = parseJson(r.text, PATH);
  if (pick(doc, "cloud_name") !== "upcloud") return undefined;
  return {
    cloud_vendor_id: "upcloud",
    cloud_account_id: null,
    cloud_region_id: clean(pick(doc, "region")),
    cloud_zone_id: null,
    cloud_instance_type: null,
  };
}

export const upcloud: CloudProbe = {
  id: "upcloud",
  name: "UpCloud",
  defaultBaseUrl: "http://169.254.169.254",
  race: true,
  dmi,
  lookup,
};
