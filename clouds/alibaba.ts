/**
 * Alibaba Cloud ECS. DMI: `product_name` `Alibaba Cloud ECS` (cloud-init `dscheck_AliYun`).
 * The metadata service sits on 100.100.100.200, a routable address rather than a link-local
 * one, so this probe never joins the blind race: it runs only when DMI or `--cloud alicloud`
 * names the provider. Hardened mode: PUT a token, send it back; the plain path otherwise.
 */
import { dmiStarts } from "./dmi.ts";
import { field, identify, isOk, ProbeError, request, UnreachableError } from "./http.ts";
import type { CloudInfo, CloudProbe, DmiEvidence, DmiMatch, ProbeContext } from "./types.ts";

const TOKEN_PATH = "/latest/api/token";
const META = "/latest/meta-data";

function dmi(d: DmiEvidence): DmiMatch | undefined {
  if (dmiStarts(d, "product_name", "Alibaba Cloud")) {
    return { evidence: `product_name=${d.product_name}` };
  }
  return dmiStarts(d, "sys_vendor", "Alibaba Cloud")
    ? { evidence: `sys_vendor=${d.sys_vendor}` }
    : undefined;
}

async function session(ctx: ProbeContext): Promise<Record<string, string> | undefined> {
  let tokenFailure: string;
  try {
    const t = await request(ctx, TOKEN_PATH, {
      method: "PUT",
      headers: { "X-aliyun-ecs-metadata-token-ttl-seconds": "21600" },
    });
    const token = t.text.trim();
    if (isOk(t.status) && /^[\x21-\x7e]{1,512}$/.test(token)) {
      return { "X-aliyun-ecs-metadata-token": token };
    }
    tokenFailure = `HTTP ${t.status} from ${TOKEN_PATH}`;
  } catch (err) {
    if (!(err instanceof UnreachableError)) throw err;
    tokenFailure = err.message;
  }
  if (ctx.signal.aborted) return undefined;
  const plain = await identify(request(ctx, `${META}/`));
  if (plain === undefined) return undefined;
  if (isOk(plain.status)) return {};
  if ((plain.status === 401 || plain.status === 403) && !tokenFailure.startsWith("HTTP 40")) {
    throw new ProbeError(`${tokenFailure}; plain mode is disabled (HTTP ${plain.status})`);
  }
  return undefined;
}

async function lookup(ctx: ProbeContext): Promise<CloudInfo | undefined> {
  const headers = await session(ctx);
  if (headers === undefined) return undefined;
  const [type, region, zone, account] = await Promise.all([
    field(ctx, `${META}/instance/instance-type`, headers),
    field(ctx, `${META}/region-id`, headers),
    field(ctx, `${META}/zone-id`, headers),
    field(ctx, `${META}/owner-account-id`, headers),
  ]);
  if (type === null && region === null) return undefined;
  return {
    cloud_vendor_id: "alicloud",
    cloud_account_id: account,
    cloud_region_id: region,
    cloud_zone_id: zone,
    cloud_instance_type: type,
  };
}

export const alicloud: CloudProbe = {
  id: "alicloud",
  name: "Alibaba Cloud",
  defaultBaseUrl: "http://100.100.100.200",
  race: false,
  dmi,
  lookup,
};
