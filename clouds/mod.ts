/**
 * Cloud discovery: DMI first (no network), then the metadata services of the providers DMI
 * names, or a race of every link-local probe when DMI names none. One overall deadline; every
 * request still in flight is aborted when it passes. Adding a provider = one module + one line
 * in `PROBES`.
 */
import { alicloud } from "./alibaba.ts";
import { aws } from "./aws.ts";
import { azure } from "./azure.ts";
import { readDmi } from "./dmi.ts";
import { digitalocean } from "./digitalocean.ts";
import { gcp } from "./gcp.ts";
import { hcloud } from "./hetzner.ts";
import { linkedTimeout, metadataFetch } from "./http.ts";
import { linode } from "./linode.ts";
import { oracle } from "./oracle.ts";
import { ovh } from "./ovh.ts";
import { scaleway } from "./scaleway.ts";
import { upcloud } from "./upcloud.ts";
import { vultr } from "./vultr.ts";
import { type CloudInfo, type CloudProbe, type DmiMatch, EMPTY_CLOUD } from "./types.ts";
import { oneLine } from "../base/errors.ts";

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

/** Valid `--cloud` values. */
export const CLOUD_IDS: readonly string[] = PROBES.map((p) => p.id);

export const DEFAULT_DEADLINE_MS = 2500;
export const DEFAULT_REQUEST_TIMEOUT_MS = 1000;
export const DEFAULT_PROVIDER_TIMEOUT_MS = 2000;

/** `TRACKER_CLOUD_URL_<ID>`: the variable overriding one provider's metadata base URL. */
export function cloudUrlEnv(id: string): string {
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
    throw new Error(`Invalid ${name} ${v}: expected a positive number`);
  }
  return v;
}

interface Entry {
  probe: CloudProbe;
  baseUrl: string;
}

interface RaceResult {
  winner?: { probe: CloudProbe; info: CloudInfo };
  errors: string[];
}

/**
 * Runs the probes concurrently; the first one that answers wins and the others are aborted.
 * Resolves by `deadlineAt` (a `performance.now()` value) whatever the probes or `fetch` do.
 */
async function race(
  entries: Entry[],
  fetchFn: typeof fetch,
  deadlineAt: number,
  requestTimeoutMs: number,
  providerTimeoutMs: number,
): Promise<RaceResult> {
  const all = new AbortController();
  const errors: string[] = [];
  const pending = new Set(entries.map((e) => e.probe.id));
  let winner: RaceResult["winner"];
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));

  const runs = entries.map(async ({ probe, baseUrl }) => {
    const t = linkedTimeout(all.signal, providerTimeoutMs);
    try {
      const info = await probe.lookup({
        baseUrl,
        fetch: fetchFn,
        signal: t.signal,
        requestTimeoutMs,
      });
      if (info !== undefined && winner === undefined && !all.signal.aborted) {
        winner = { probe, info: { ...info, cloud_vendor_id: probe.id } };
      }
    } catch (err) {
      if (t.timedOut()) {
        errors.push(`${probe.id}: no complete answer within ${providerTimeoutMs} ms`);
      } else if (!all.signal.aborted) errors.push(`${probe.id}: ${oneLine(err, 160)}`);
    } finally {
      t.dispose();
      pending.delete(probe.id);
      if (winner !== undefined || pending.size === 0) finished();
    }
  });
  if (entries.length === 0) finished();

  // Abort a little before the deadline so aborted requests settle inside it; the hard stop
  // covers a `fetch` that ignores its signal.
  const left = Math.max(0, deadlineAt - performance.now());
  const grace = Math.min(50, left / 10);
  let hardStop!: () => void;
  const hard = new Promise<void>((resolve) => (hardStop = resolve));
  const softTimer = setTimeout(() => {
    if (winner === undefined && pending.size > 0) {
      errors.push(`deadline reached; no answer yet from ${[...pending].join(", ")}`);
    }
    all.abort(new DOMException("Cloud discovery deadline", "TimeoutError"));
  }, left - grace);
  const hardTimer = setTimeout(hardStop, left);
  try {
    await Promise.race([done, hard]);
    all.abort(new DOMException("Cloud discovery finished", "AbortError"));
    await Promise.race([Promise.allSettled(runs), hard]);
  } finally {
    clearTimeout(softTimer);
    clearTimeout(hardTimer);
  }
  return winner === undefined ? { errors } : { winner, errors: [] };
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
    throw new Error(`Unknown cloud provider "${only}": expected one of ${CLOUD_IDS.join(", ")}`);
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
  const entries: Entry[] = [];
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

  const result = await race(
    entries,
    opts.fetch ?? metadataFetch,
    started + deadlineMs,
    requestTimeoutMs,
    providerTimeoutMs,
  );
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
