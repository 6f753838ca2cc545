/**
 * AWS EC2. DMI: `sys_vendor`/`bios_vendor`/`chassis_asset_tag` = `Amazon EC2` (Nitro, where
 * `product_name` is the instance type), `/sys/hypervisor/uuid` starting `ec2` or `amazon` in the
 * BIOS/product version (Xen). IMDSv2 token first, IMDSv1 when the token PUT fails (it does in
 * containers with hop limit 1). `services/domain` must be `amazonaws.com`, so EC2-compatible
 * clones (OpenStack, OVH, …) are not taken for AWS.
 */
import { dmiStarts, evidence } from "./dmi.ts";
import {
  clean,
  field,
  identify,
  isOk,
  parseJson,
  pick,
  ProbeError,
  request,
  UnreachableError,
} from "./http.ts";
import type { CloudInfo, CloudProbe, DmiEvidence, DmiMatch, ProbeContext } from "./types.ts";

const TOKEN_PATH = "/latest/api/token";
const META = "/latest/meta-data";

/** Nitro `product_name`: `m5a.large`, `c6g.metal`, `u-6tb1.metal`, `p4d.24xlarge`. */
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9-]+$/;

function dmi(d: DmiEvidence): DmiMatch | undefined {
  const nitro = evidence(
    d,
    ["sys_vendor", "bios_vendor", "chassis_asset_tag"],
    (v) => v === "Amazon EC2",
  );
  if (nitro !== undefined) {
    const type = d.sys_vendor === "Amazon EC2" && INSTANCE_TYPE.test(d.product_name ?? "")
      ? d.product_name
      : undefined;
    return type === undefined
      ? { evidence: nitro }
      : { evidence: nitro, offline: { cloud_instance_type: type } };
  }
  if (dmiStarts(d, "hypervisor_uuid", "ec2")) {
    return { evidence: `hypervisor_uuid=${d.hypervisor_uuid}` };
  }
  const xen = evidence(d, ["bios_version", "product_version"], (v) => /amazon/i.test(v));
  return xen === undefined ? undefined : { evidence: xen };
}

/**
 * Returns the headers for later requests (with the token when IMDSv2 gave one), or undefined
 * when nothing EC2-like answers.
 */
async function session(ctx: ProbeContext): Promise<Record<string, string> | undefined> {
  let tokenFailure: string;
  try {
    const t = await request(ctx, TOKEN_PATH, {
      method: "PUT",
      headers: { "X-aws-ec2-metadata-token-ttl-seconds": "21600" },
    });
    const token = t.text.trim();
    if (isOk(t.status) && /^[\x21-\x7e]{1,512}$/.test(token)) {
      return { "X-aws-ec2-metadata-token": token };
    }
    tokenFailure = `HTTP ${t.status} from ${TOKEN_PATH}`;
  } catch (err) {
    if (!(err instanceof UnreachableError)) throw err;
    tokenFailure = err.message;
  }
  if (ctx.signal.aborted) return undefined;
  // IMDSv1 fallback.
  const v1 = await identify(request(ctx, `${META}/`));
  if (v1 === undefined) return undefined;
  if (isOk(v1.status)) return {};
  if ((v1.status === 401 || v1.status === 403) && !tokenFailure.startsWith("HTTP 40")) {
    // IMDS is there and wants a token, but the token endpoint is broken.
    throw new ProbeError(`${tokenFailure}; IMDSv1 is disabled (HTTP ${v1.status})`);
  }
  return undefined;
}

async function accountId(ctx: ProbeContext, headers: Record<string, string>) {
  // The document is pretty-printed JSON (`"AccountId" : "…"`): parse it, never string-search.
  const info = await request(ctx, `${META}/identity-credentials/ec2/info`, { headers });
  if (isOk(info.status)) {
    const id = clean(pick(parseJson(info.text, "identity-credentials/ec2/info"), "AccountId"));
    if (id !== null) return id;
  } else if (info.status !== 404) {
    throw new ProbeError(`HTTP ${info.status} from ${META}/identity-credentials/ec2/info`);
  }
  const doc = await request(ctx, "/latest/dynamic/instance-identity/document", { headers });
  if (!isOk(doc.status)) return null;
  return clean(pick(parseJson(doc.text, "instance-identity/document"), "accountId"));
}

async function lookup(ctx: ProbeContext): Promise<CloudInfo | undefined> {
  const headers = await session(ctx);
  if (headers === undefined) return undefined;
  const domain = await identify(request(ctx, `${META}/services/domain`, { headers }));
  if (domain === undefined || !isOk(domain.status) || domain.text.trim() !== "amazonaws.com") {
    return undefined;
  }
  const [region, zone, type, account] = await Promise.all([
    field(ctx, `${META}/placement/region`, headers),
    field(ctx, `${META}/placement/availability-zone`, headers),
    field(ctx, `${META}/instance-type`, headers),
    accountId(ctx, headers),
  ]);
  return {
    cloud_vendor_id: "aws",
    cloud_account_id: account,
    // Old IMDS versions lack placement/region: `us-east-1a` → `us-east-1`.
    cloud_region_id: region ?? (zone === null ? null : zone.replace(/[a-z]+$/, "")),
    cloud_zone_id: zone,
    cloud_instance_type: type,
  };
}

export const aws: CloudProbe = {
  id: "aws",
  name: "Amazon Web Services",
  defaultBaseUrl: "http://169.254.169.254",
  race: true,
  dmi,
  lookup,
};
