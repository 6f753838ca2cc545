/**
 * Oracle Cloud Infrastructure. DMI: `chassis_asset_tag` `OracleCloud.com`. IMDS v2
 * (`/opc/v2/instance/` with `Authorization: Bearer Oracle`), then v1 without the header when v2
 * is refused or absent. Fields (OCI "Getting Instance Metadata"): `shape`,
 * `canonicalRegionName` (`us-ashburn-1`), `ociAdName`/`availabilityDomain`, `tenantId`.
 */
import { dmiIs } from "./dmi.ts";
import { clean, identify, isOk, parseJson, pick, request } from "./http.ts";
import type { CloudInfo, CloudProbe, DmiEvidence, DmiMatch, ProbeContext } from "./types.ts";

function dmi(d: DmiEvidence): DmiMatch | undefined {
  return dmiIs(d, "chassis_asset_tag", "OracleCloud.com")
    ? { evidence: `chassis_asset_tag=${d.chassis_asset_tag}` }
    : undefined;
}

async function document(ctx: ProbeContext): Promise<unknown> {
  const v2 = await request(ctx, "/opc/v2/instance/", {
    headers: { Authorization: "Bearer Oracle" },
  });
  if (isOk(v2.status)) return parseJson(v2.text, "/opc/v2/instance/");
  if (ctx.signal.aborted) return undefined;
  const v1 = await request(ctx, "/opc/v1/instance/");
  return isOk(v1.status) ? parseJson(v1.text, "/opc/v1/instance/") : undefined;
}

async function lookup(ctx: ProbeContext): Promise<CloudInfo | undefined> {
  const doc = await identify(document(ctx));
  const id = pick(doc, "id");
  if (typeof id !== "string" || !id.startsWith("ocid1.")) return undefined;
  // `availabilityDomain` carries a tenancy-specific prefix (`kWVD:US-ASHBURN-AD-1`).
  const ad = clean(pick(doc, "ociAdName")) ??
    clean(String(pick(doc, "availabilityDomain") ?? "").replace(/^[^:]*:/, ""));
  return {
    cloud_vendor_id: "oracle",
    cloud_account_id: clean(pick(doc, "tenantId")),
    cloud_region_id: clean(pick(doc, "canonicalRegionName")) ?? clean(pick(doc, "region")),
    cloud_zone_id: ad,
    cloud_instance_type: clean(pick(doc, "shape")),
  };
}

export const oracle: CloudProbe = {
  id: "oracle",
  name: "Oracle Cloud Infrastructure",
  defaultBaseUrl: "http://169.254.169.254",
  race: true,
  dmi,
  lookup,
};
