/**
 * Cloud discovery: DMI first (no network), then the metadata services of the providers DMI
 * names, or a race of every link-local probe when DMI names none. One overall deadline; every
 * request still in flight is aborted when it passes (the race itself is in race.ts). Adding a
 * provider = one module + one line in `PROBES` and its id in `CLOUD_IDS` (options.ts).
 */
import { alicloud } from "./alibaba.ts";
import { aws } from "./aws.ts";
import { azure } from "./azure.ts";
import { readDmi } from "./dmi.ts";
import { digitalocean } from "./digitalocean.ts";
import { gcp } from "./gcp.ts";
import { hcloud } from "./hetzner.ts";
import { metadataFetch } from "./http.ts";
import { linode } from "./linode.ts";
import { oracle } from "./oracle.ts";
import { ovh } from "./ovh.ts";
import { scaleway } from "./scaleway.ts";
import { upcloud } from "./upcloud.ts";
import { vultr } from "./vultr.ts";
import { type CloudInfo, type CloudProbe, type DmiMatch, EMPTY_CLOUD } from "./types.ts";
import { CLOUD_IDS } from "./options.ts";
import { race, type RaceEntry } from "./race.ts";

export { EMPTY_CLOUD };
export type { CloudInfo, CloudProbe, DmiEvidence, DmiMatch, ProbeContext } from "./types.ts";

/** Every provider, in the references' precedence order, then the extras. */
export const PROBES: readonly CloudProbe[] = [
  aws,
  gcp,
  azure,
  hcloud,
  upcloud,
  vultr,
  alicloud,
  ovh,
  digitalocean,
  oracle,
  linode,
  scaleway,
];

/** Valid `--cloud` values, in `PROBES` order (a test keeps them equal). */
export { CLOUD_IDS };

const DEFAULT_DEADLINE_MS = 2500;
const DEFAULT_REQUEST_TIMEOUT_MS = 1000;
const DEFAULT_PROVIDER_TIMEOUT_MS = 2000;

/** `TRACKER_CLOUD_URL_<ID>`: the variable overriding one provider's metadata base URL. */
function cloudUrlEnv(id: string): string {
  return `TRACKER_CLOUD_URL_${id.toUpperCase()}`;
}

/** One row per provider, for help text and README generation. */
export interface CloudEndpoint {
  id: string;
  name: string;
  env: string;
  defaultUrl: string;
  /** False: contacted only when DMI or `--cloud` names the provider. */
  race: boolean;
}

export const CLOUD_ENDPOINTS: readonly CloudEndpoint[] = PROBES.map((p) => ({
  id: p.id,
  name: p.name,
  env: cloudUrlEnv(p.id),
  defaultUrl: p.defaultBaseUrl,
  race: p.race,
}));

export interface CloudDiscovery {
  info: CloudInfo;
  source: "dmi" | "metadata" | "dmi+metadata" | "none" | "disabled";
  /** DMI evidence read (file name → value). */
  dmi: Record<string, string>;
  /** Ids of the probes run. */
  candidates: string[];
  elapsed_ms: number;
  /** One short line per broken probe; never a response body. */
  errors: string[];
}

export interface DiscoverOptions {
  /** sysfs root (`/sys`); DMI is read from `<sys>/class/dmi/id`. */
  sys: string;
  env: (name: string) => string | undefined;
  /** Provider id from `--cloud`: only this probe runs. */
  only?: string;
  /** `--no-cloud`: resolve at once; no packet, no file read. */
  disabled?: boolean;
  fetch?: typeof fetch;
  deadlineMs?: number;
  requestTimeoutMs?: number;
  providerTimeoutMs?: number;
}

/** `http(s)://host[:port][/prefix]` without trailing slash, or undefined when unusable. */
function parseBaseUrl(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return undefined;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  if (url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "") {
    return undefined;
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

function positive(name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isFinite(v) || v <= 0) {
    throw new Error(`invalid ${name} ${v}: expected a positive number`);
  }
  return v;
}

/** Discovers the cloud this machine runs on. Never rejects except for invalid options. */
export async function discoverCloud(opts: DiscoverOptions): Promise<CloudDiscovery> {
  if (opts.disabled === true) {
    return {
      info: { ...EMPTY_CLOUD },
      source: "disabled",
      dmi: {},
      candidates: [],
      elapsed_ms: 0,
      errors: [],
    };
  }
  const only = opts.only;
  if (only !== undefined && !CLOUD_IDS.includes(only)) {
    throw new Error(`unknown cloud provider "${only}": expected one of ${CLOUD_IDS.join(", ")}`);
  }
  const started = performance.now();
  const deadlineMs = positive("deadlineMs", opts.deadlineMs, DEFAULT_DEADLINE_MS);
  const requestTimeoutMs = positive(
    "requestTimeoutMs",
    opts.requestTimeoutMs,
    DEFAULT_REQUEST_TIMEOUT_MS,
  );
  const providerTimeoutMs = positive(
    "providerTimeoutMs",
    opts.providerTimeoutMs,
    DEFAULT_PROVIDER_TIMEOUT_MS,
  );

  const dmi = readDmi(opts.sys);
  const matches = new Map<string, DmiMatch>();
  for (const p of PROBES) {
    const m = p.dmi(dmi);
    if (m !== undefined) matches.set(p.id, m);
  }
  const candidates = only !== undefined
    ? PROBES.filter((p) => p.id === only)
    : matches.size > 0
    ? PROBES.filter((p) => matches.has(p.id))
    : PROBES.filter((p) => p.race);

  const errors: string[] = [];
  const entries: RaceEntry[] = [];
  for (const probe of candidates) {
    const name = cloudUrlEnv(probe.id);
    const raw = opts.env(name);
    if (raw === undefined || raw.trim() === "") {
      entries.push({ probe, baseUrl: probe.defaultBaseUrl });
      continue;
    }
    const baseUrl = parseBaseUrl(raw);
    // A broken override skips the probe rather than falling back to the real address.
    if (baseUrl === undefined) {
      errors.push(`${probe.id}: ignoring ${name}: not an http(s) base URL`);
    } else entries.push({ probe, baseUrl });
  }

  const result = await race(entries, {
    fetch: opts.fetch ?? metadataFetch,
    deadlineAt: started + deadlineMs,
    requestTimeoutMs,
    providerTimeoutMs,
  });
  errors.push(...result.errors);

  let info: CloudInfo = { ...EMPTY_CLOUD };
  let source: CloudDiscovery["source"] = "none";
  const dmiProbe = candidates.find((p) => matches.has(p.id));
  if (result.winner !== undefined) {
    const { probe, info: answer } = result.winner;
    const offline = matches.get(probe.id)?.offline ?? {};
    info = { ...answer };
    for (const [k, v] of Object.entries(offline) as [keyof CloudInfo, string | undefined][]) {
      if (info[k] === null && v !== undefined) info[k] = v;
    }
    source = matches.has(probe.id) ? "dmi+metadata" : "metadata";
  } else if (dmiProbe !== undefined) {
    info = { ...EMPTY_CLOUD, ...matches.get(dmiProbe.id)?.offline, cloud_vendor_id: dmiProbe.id };
    source = "dmi";
  }
  return {
    info,
    source,
    dmi: { ...dmi },
    candidates: candidates.map((p) => p.id),
    elapsed_ms: Math.round(performance.now() - started),
    errors,
  };
}
