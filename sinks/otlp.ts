/**
 * `otlp+http://HOST:4318` (and `otlp+https://`): OpenTelemetry metrics over OTLP/HTTP. The URI
 * is the collector's base; batches are POSTed to `<base>/v1/metrics` as the specification
 * says, gzip-compressed protobuf by default, OTLP/JSON with `#protocol=http/json` or
 * `OTEL_EXPORTER_OTLP_(METRICS_)PROTOCOL=http/json`. Extra headers (authentication) come from
 * `OTEL_EXPORTER_OTLP_(METRICS_)HEADERS` at send time and never reach the spool or the logs.
 * The resource says which run and which machine: metadata and tags, host and cloud facts.
 */
import denoJson from "../deno.json" with { type: "json" };

import { type AttrValue, buildRequest, encodeProtobuf } from "../metrics/otlp.ts";
import { compress } from "./compress.ts";
import { batchedSink, type RemoteDeps, type Transport } from "./delivery.ts";
import { frameEncoder, framesOf, post } from "./frames.ts";
import type { RunInfo } from "./sink.ts";
import { redactUrl } from "./redact.ts";
import type { ResumeFn } from "./resume.ts";
import type { Sink } from "./sink.ts";
import type { JobMeta } from "./spool.ts";

export type OtlpProtocol = "http/protobuf" | "http/json";

export interface OtlpMeta extends JobMeta {
  kind: "otlp";
  url: string;
  protocol: OtlpProtocol;
  /** Resolved once (host and cloud facts); kept so `flush` sends the same resource. */
  resource: Record<string, AttrValue> | null;
  startNs: string;
  bootNs: string;
}

const SCHEME = /^otlp\+(https?):\/\//i;
const PROTOCOL = /#protocol=(http\/protobuf|http\/json)$/i;

export function isOtlp(uri: string): boolean {
  return SCHEME.test(uri);
}

export interface OtlpTarget {
  url: URL;
  protocol: OtlpProtocol | null;
}

/** `<base>/v1/metrics` and the protocol the URI asks for; throws a plain message. */
export function otlpTarget(uri: string): OtlpTarget {
  const m = SCHEME.exec(uri);
  if (!m) throw new Error("expected otlp+http://HOST:PORT or otlp+https://HOST:PORT");
  const p = PROTOCOL.exec(uri);
  const rest = uri.slice(m[0].length, p ? p.index : undefined);
  let url: URL;
  try {
    url = new URL(`${m[1]!.toLowerCase()}://${rest}`);
  } catch {
    throw new Error("not a valid URL");
  }
  if (!url.hostname) throw new Error("expected a host");
  if (url.hash) throw new Error("the only fragment understood is #protocol=http/json");
  if (!/\/v1\/metrics$/.test(url.pathname)) {
    url.pathname = `${url.pathname.replace(/\/$/, "")}/v1/metrics`;
  }
  return { url, protocol: p ? (p[1]!.toLowerCase() as OtlpProtocol) : null };
}

function envProtocol(env: (n: string) => string | undefined): OtlpProtocol | null {
  const v = (env("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL") || env("OTEL_EXPORTER_OTLP_PROTOCOL"))
    ?.trim().toLowerCase();
  return v === "http/json" || v === "http/protobuf" ? v : null;
}

/** `k1=v1,k2=v2` (values URL-encoded) from the OTel variables; metrics-specific ones win. */
export function otlpHeaders(env: (n: string) => string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ["OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_METRICS_HEADERS"]) {
    for (const pair of (env(name) ?? "").split(",")) {
      const i = pair.indexOf("=");
      if (i <= 0) continue;
      try {
        out[decodeURIComponent(pair.slice(0, i).trim()).toLowerCase()] = decodeURIComponent(
          pair.slice(i + 1).trim(),
        );
      } catch { /* a malformed pair is skipped */ }
    }
  }
  return out;
}

function bootNs(): bigint {
  try {
    const m = /^btime (\d+)$/m.exec(Deno.readTextFileSync("/proc/stat"));
    if (m) return BigInt(m[1]!) * 1_000_000_000n;
  } catch { /* unknown: 0 means "unknown start" in OTLP */ }
  return 0n;
}

const archOf = (a: string) => (a === "x86_64" ? "amd64" : a === "aarch64" ? "arm64" : a);

/** Resource attributes after the OpenTelemetry semantic conventions, plus the run's identity. */
export async function otlpResource(run: RunInfo): Promise<Record<string, AttrValue>> {
  const r: Record<string, AttrValue> = {
    "service.name": "resource-tracker",
    "service.version": denoJson.version,
    "service.instance.id": crypto.randomUUID(),
    "os.type": "linux",
    "host.arch": archOf(Deno.build.arch),
  };
  const host = await run.host().catch(() => ({} as Record<string, unknown>));
  const cloud = await run.cloud(2_000).catch(() => ({} as Record<string, unknown>));
  const put = (k: string, v: unknown) => {
    if (typeof v === "string" && v !== "") r[k] = v;
    else if (typeof v === "number" && Number.isFinite(v)) r[k] = v;
  };
  put("host.name", host.host_hostname ?? Deno.hostname());
  put("host.id", host.host_id);
  put("host.ip", host.host_ip);
  put("host.cpu.model.name", host.host_cpu_model);
  put("cloud.provider", cloud.cloud_vendor_id);
  put("cloud.account.id", cloud.cloud_account_id);
  put("cloud.region", cloud.cloud_region_id);
  put("cloud.availability_zone", cloud.cloud_zone_id);
  put("host.type", cloud.cloud_instance_type);
  put("deployment.environment.name", run.metadata.env);
  if (run.command) put("process.command_line", run.command.join(" "));
  for (const [k, v] of Object.entries(run.metadata)) {
    if (v) put(`resource_tracker.${k}`, v);
  }
  for (const [k, v] of Object.entries(run.tags)) put(`resource_tracker.tag.${k}`, v);
  return r;
}

export function otlpTransport(
  meta: OtlpMeta,
  deps: Pick<RemoteDeps, "env" | "fetch">,
  resource: () => Promise<Record<string, AttrValue>>,
): Transport {
  return {
    name: `OTLP ${redactUrl(meta.url)}`,
    async send(_seq, body, signal) {
      meta.resource ??= await resource();
      const req = buildRequest(await framesOf(body), {
        resource: meta.resource,
        scopeVersion: denoJson.version,
        startNs: BigInt(meta.startNs),
        bootNs: BigInt(meta.bootNs),
      });
      const json = meta.protocol === "http/json";
      const raw = json ? new TextEncoder().encode(JSON.stringify(req)) : encodeProtobuf(req);
      const headers: Record<string, string> = {
        ...otlpHeaders(deps.env),
        "content-type": json ? "application/json" : "application/x-protobuf",
        "content-encoding": "gzip",
        "user-agent": `resource-tracker/${denoJson.version}`,
      };
      return await post(deps.fetch, meta.url, headers, await compress(raw, "gzip"), signal);
    },
  };
}

/** `flush` for OTLP jobs. */
export const resumeOtlp: ResumeFn = ({ job }, o) =>
  Promise.resolve({
    // A run that never reached its collector never resolved its resource: name the service.
    transport: otlpTransport(
      job.meta as OtlpMeta,
      o.deps,
      () => Promise.resolve({ "service.name": "resource-tracker" }),
    ),
  });

export function createOtlpSink(uri: string, run: RunInfo, deps: RemoteDeps): Sink {
  const target = otlpTarget(uri);
  const meta: OtlpMeta = {
    version: 1,
    kind: "otlp",
    ext: "frames.jsonl.gz",
    url: target.url.toString(),
    protocol: target.protocol ?? envProtocol(deps.env) ?? "http/protobuf",
    resource: null,
    startNs: String(BigInt(Date.now()) * 1_000_000n),
    bootNs: String(bootNs()),
  };
  let resolved: Promise<Record<string, AttrValue>> | null = null;
  const transport = otlpTransport(meta, deps, () => (resolved ??= otlpResource(run)));
  return batchedSink("otlp", meta, transport, frameEncoder(), deps);
}
