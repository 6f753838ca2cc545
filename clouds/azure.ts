/**
 * Microsoft Azure. DMI: `chassis_asset_tag` `7783-7084-3265-9085-8269-3286-77` (cloud-init
 * `is_azure_chassis`); `Microsoft Corporation` / `Virtual Machine` alone is any Hyper-V guest,
 * so it is not taken as Azure. IMDS needs `Metadata: true`; the JSON must have `compute`.
 */
import { evidence } from "./dmi.ts";
import { clean, identify, isObject, isOk, parseJson, pick, request } from "./http.ts";
import type { CloudInfo, CloudProbe, DmiEvidence, DmiMatch, ProbeContext } from "./types.ts";

const PATH = "/metadata/instance?api-version=2021-02-01";
const AZURE_CHASSIS = "7783-7084-3265-9085-8269-3286-77";

function dmi(d: DmiEvidence): DmiMatch | undefined {
  const e = evidence(d, ["chassis_asset_tag"], (v) => v === AZURE_CHASSIS);
  return e === undefined ? undefined : { evidence: e };
}

async function lookup(ctx: ProbeContext): Promise<CloudInfo | undefined> {
  const r = await identify(request(ctx, PATH, { headers: { Metadata: "true" } }));
  if (r === undefined || !isOk(r.status)) return undefined;
  const doc = parseJson(r.text, "/metadata/instance");
  const compute = pick(doc, "compute");
  if (!isObject(compute)) return undefined;
  return {
    cloud_vendor_id: "azure",
    cloud_account_id: clean(compute.subscriptionId),
    cloud_region_id: clean(compute.location),
    // Availability zone number ("1"…"3"); empty for VMs outside a zone.
    cloud_zone_id: clean(compute.zone),
    cloud_instance_type: clean(compute.vmSize),
  };
}

export const azure: CloudProbe = {
  id: "azure",
  name: "Microsoft Azure",
  defaultBaseUrl: "http://169.254.169.254",
  race: true,
  dmi,
  lookup,
};
