/**
 * OVHcloud Public Cloud. DMI names only OpenStack (`OpenStack Nova` / `OpenStack Foundation`),
 * never OVH, so this probe has no DMI fingerprint and always needs the metadata service. OVH
 * is told apart from other OpenStack clouds by its resolver `213.186.33.99` among the `dns`
 * services of `network_data.json` (the references' fingerprint).
 */
import {
  clean,
  field,
  identify,
  isObject,
  isOk,
  parseJson,
  pick,
  ProbeError,
  request,
} from "./http.ts";
import type { CloudInfo, CloudProbe, DmiMatch, ProbeContext } from "./types.ts";

const NETWORK = "/openstack/latest/network_data.json";
const META = "/openstack/latest/meta_data.json";
const OVH_DNS = "213.186.33.99";

function dmi(): DmiMatch | undefined {
  return undefined;
}

async function lookup(ctx: ProbeContext): Promise<CloudInfo | undefined> {
  const net = await identify(request(ctx, NETWORK));
  if (net === undefined || !isOk(net.status)) return undefined;
  const services = pick(parseJson(net.text, NETWORK), "services");
  const isOvh = Array.isArray(services) &&
    services.some((s) => isObject(s) && s.type === "dns" && s.address === OVH_DNS);
  if (!isOvh) return undefined;
  const [meta, type] = await Promise.all([
    request(ctx, META),
    field(ctx, "/latest/meta-data/instance-type"),
  ]);
  if (!isOk(meta.status) && meta.status !== 404) {
    throw new ProbeError(`HTTP ${meta.status} from ${META}`);
  }
  const doc = isOk(meta.status) ? parseJson(meta.text, META) : undefined;
  const az = clean(pick(doc, "availability_zone"));
  return {
    cloud_vendor_id: "ovh",
    // The OpenStack project the instance belongs to.
    cloud_account_id: clean(pick(doc, "project_id")),
    // OVH reports the region as the availability zone; `nova` is OpenStack's placeholder.
    cloud_region_id: az === null || az.toLowerCase() === "nova" ? null : az,
    cloud_zone_id: null,
    cloud_instance_type: type,
  };
}

export const ovh: CloudProbe = {
  id: "ovh",
  name: "OVHcloud",
  defaultBaseUrl: "http://169.254.169.254",
  race: true,
  dmi,
  lookup,
};
