/**
 * Shared types of cloud discovery: the five fields sent to Sentinel and the probe contract.
 * Every provider module exports one `CloudProbe`; `mod.ts` lists them in `PROBES`.
 */

/** What discovery tells about the machine; `null` where the provider does not say. */
export interface CloudInfo {
  cloud_vendor_id: string | null;
  cloud_account_id: string | null;
  cloud_region_id: string | null;
  cloud_zone_id: string | null;
  cloud_instance_type: string | null;
}

/** No cloud: all five fields null. */
export const EMPTY_CLOUD: CloudInfo = Object.freeze({
  cloud_vendor_id: null,
  cloud_account_id: null,
  cloud_region_id: null,
  cloud_zone_id: null,
  cloud_instance_type: null,
});

/** DMI evidence: file name under `/sys/class/dmi/id` (plus `hypervisor_uuid`) → trimmed value. */
export type DmiEvidence = Readonly<Record<string, string>>;

/** A positive DMI fingerprint, with whatever the firmware tells without any network. */
export interface DmiMatch {
  /** Short human reason, e.g. `sys_vendor=Hetzner`. */
  evidence: string;
  /** Fields known offline (e.g. the AWS Nitro instance type in `product_name`). */
  offline?: Partial<Omit<CloudInfo, "cloud_vendor_id">>;
}

/** What a probe gets: everything it may touch is injected. */
export interface ProbeContext {
  /** Base URL without trailing slash, e.g. `http://169.254.169.254`. */
  baseUrl: string;
  fetch: typeof fetch;
  /** Aborted at the provider limit or the overall deadline. */
  signal: AbortSignal;
  /** Limit of one request (connect + response + body). */
  requestTimeoutMs: number;
}

/**
 * One provider. `lookup` resolves `undefined` for "not this cloud" (nothing answers, 404,
 * identity check fails) and throws for "broken" (this cloud, but the service misbehaves).
 */
export interface CloudProbe {
  /** `cloud_vendor_id` and the `--cloud` value. */
  id: string;
  /** Display name for help text. */
  name: string;
  /** Default metadata base URL; overridden by `TRACKER_CLOUD_URL_<ID>`. */
  defaultBaseUrl: string;
  /**
   * Whether the probe joins the race when DMI is missing or inconclusive. False for services
   * on routable (non link-local) addresses, contacted only when DMI or `--cloud` names them.
   */
  race: boolean;
  /** DMI fingerprint; `undefined` when the firmware does not name this provider. */
  dmi(evidence: DmiEvidence): DmiMatch | undefined;
  lookup(ctx: ProbeContext): Promise<CloudInfo | undefined>;
}
