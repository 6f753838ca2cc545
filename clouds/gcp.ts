/**
 * Google Cloud. DMI: `product_name` `Google Compute Engine` (older VMs `Google`), `sys_vendor`
 * or `bios_vendor` `Google`. Metadata server at 169.254.169.254 (the address behind
 * metadata.google.internal; using it avoids a DNS query off GCP). Requests carry
 * `Metadata-Flavor: Google` and the server echoes it back, which is the identity check.
 */
import { evidence } from "./dmi.ts";
import {
  clean,
  dropLastDashPart,
  identify,
  isOk,
  lastSegment,
  ProbeError,
  request,
} from "./http.ts";
import type { CloudInfo, CloudProbe, DmiEvidence, DmiMatch, ProbeContext } from "./types.ts";

const V1 = "/computeMetadata/v1";
const HEADERS = { "Metadata-Flavor": "Google" };

function dmi(d: DmiEvidence): DmiMatch | undefined {
  const e = evidence(
    d,
    ["product_name", "sys_vendor", "bios_vendor"],
    (v) => v === "Google Compute Engine" || v === "Google",
  );
  return e === undefined ? undefined : { evidence: e };
}

/** One metadata value; `undefined` when the answer is not from a GCP metadata server. */
async function get(ctx: ProbeContext, path: string): Promise<string | null | undefined> {
  const r = await request(ctx, V1 + path, { headers: HEADERS });
  if (r.headers.get("metadata-flavor") !== "Google") return undefined;
  if (isOk(r.status)) return clean(r.text);
  if (r.status === 404) return null;
  throw new ProbeError(`HTTP ${r.status} from ${V1 + path}`);
}

async function lookup(ctx: ProbeContext): Promise<CloudInfo | undefined> {
  // The project id is optional: its failure never hides the other fields.
  const project = get(ctx, "/project/project-id").then((v) => v ?? null, () => null);
  const answers = await identify(Promise.all([
    get(ctx, "/instance/machine-type"),
    get(ctx, "/instance/zone"),
  ]));
  if (answers === undefined) return undefined;
  const [machineType, zonePath] = answers;
  // Both identity values must come from a GCP server (R: both GETs succeed).
  if (machineType === undefined || machineType === null) return undefined;
  if (zonePath === undefined || zonePath === null) return undefined;
  // `projects/123/machineTypes/e2-medium`, `projects/123/zones/us-central1-a`.
  const zone = clean(lastSegment(zonePath));
  return {
    cloud_vendor_id: "gcp",
    cloud_account_id: await project,
    cloud_region_id: zone === null ? null : dropLastDashPart(zone),
    cloud_zone_id: zone,
    cloud_instance_type: clean(lastSegment(machineType)),
  };
}

export const gcp: CloudProbe = {
  id: "gcp",
  name: "Google Cloud",
  defaultBaseUrl: "http://169.254.169.254",
  race: true,
  dmi,
  lookup,
};
