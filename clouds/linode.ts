/**
 * Akamai Cloud (Linode). DMI: `sys_vendor` `Linode` or `Akamai`. The metadata API always needs a
 * token: `PUT /v1/token` with `Metadata-Token-Expiry-Seconds`, then `GET /v1/instance` with
 * `Metadata-Token` and `Accept: application/json` (techdocs.akamai.com, "Use the Metadata
 * service API"); there is no unauthenticated path. Fields: `type`, `region`.
 */
import { dmiIs } from "./dmi.ts";
import { clean, identify, isOk, parseJson, pick, ProbeError, request } from "./http.ts";
import type { CloudInfo, CloudProbe, DmiEvidence, DmiMatch, ProbeContext } from "./types.ts";

function dmi(d: DmiEvidence): DmiMatch | undefined {
  return dmiIs(d, "sys_vendor", "Linode", "Akamai")
    ? { evidence: `sys_vendor=${d.sys_vendor}` }
    : undefined;
}

async function lookup(ctx: ProbeContext): Promise<CloudInfo | undefined> {
  const t = await identify(request(ctx, "/v1/token", {
    method: "PUT",
    headers: { "Metadata-Token-Expiry-Seconds": "300" },
  }));
  if (t === undefined || !isOk(t.status)) {
    if (t !== undefined && t.status >= 500) throw new ProbeError(`HTTP ${t.status} from /v1/token`);
    return undefined;
  }
  const token = t.text.trim();
  if (!/^[\x21-\x7e]{1,512}$/.test(token)) return undefined;
  const r = await request(ctx, "/v1/instance", {
    headers: { "Metadata-Token": token, Accept: "application/json" },
  });
  if (!isOk(r.status)) {
    if (r.status === 404) return undefined;
    throw new ProbeError(`HTTP ${r.status} from /v1/instance`);
  }
  const doc = parseJson(r.text, "/v1/instance");
  if (typeof pick(doc, "id") !== "number") return undefined;
  return {
    cloud_vendor_id: "linode",
    cloud_account_id: null,
    cloud_region_id: clean(pick(doc, "region")),
    cloud_zone_id: null,
    cloud_instance_type: clean(pick(doc, "type")),
  };
}

export const linode: CloudProbe = {
  id: "linode",
  name: "Akamai Cloud (Linode)",
  defaultBaseUrl: "http://169.254.169.254",
  race: true,
  dmi,
  lookup,
};
