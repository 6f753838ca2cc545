/**
 * An OTLP/HTTP metrics receiver on loopback that decodes what it gets with the official
 * OpenTelemetry protobuf definitions (the generated code shipped in
 * `@opentelemetry/otlp-transformer`), never with the tracker's own encoder. JSON bodies go
 * through the same definitions (`fromObject`), so both encodings are checked against them.
 */
import { gunzipSync } from "node:zlib";
import root from "otlp-proto/build/src/generated/root.js";
import { sleep } from "../../base/time.ts";
import { applyFault, Faults } from "./faults.ts";
import { LoopbackFake } from "./loopback.ts";

// deno-lint-ignore no-explicit-any
const Request = (root as any).opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;

export interface DecodedPoint {
  attributes: Record<string, unknown>;
  startTimeUnixNano?: string;
  timeUnixNano: string;
  asDouble: number;
}

export interface DecodedMetric {
  name: string;
  description: string;
  unit: string;
  kind: "gauge" | "sum";
  isMonotonic?: boolean;
  aggregationTemporality?: number;
  dataPoints: DecodedPoint[];
}

export interface DecodedExport {
  contentType: string | null;
  resource: Record<string, unknown>;
  scope: { name: string; version: string };
  metrics: DecodedMetric[];
}

function attrs(list: { key: string; value: Record<string, unknown> }[] | undefined) {
  const out: Record<string, unknown> = {};
  for (const kv of list ?? []) {
    const v = kv.value;
    out[kv.key] = v.stringValue ?? v.doubleValue ?? v.boolValue ??
      (v.intValue !== undefined ? Number(v.intValue) : undefined);
  }
  return out;
}

/** The plain-object form of a decoded request (64-bit numbers as strings). */
export function decodeExport(body: Uint8Array, contentType: string | null): DecodedExport[] {
  const msg = contentType?.startsWith("application/json")
    ? Request.fromObject(JSON.parse(new TextDecoder().decode(body)))
    : Request.decode(body);
  const obj = Request.toObject(msg, { longs: String, enums: Number, defaults: false });
  // deno-lint-ignore no-explicit-any
  return (obj.resourceMetrics ?? []).flatMap((rm: any) =>
    // deno-lint-ignore no-explicit-any
    (rm.scopeMetrics ?? []).map((sm: any) => ({
      contentType,
      resource: attrs(rm.resource?.attributes),
      scope: { name: sm.scope?.name ?? "", version: sm.scope?.version ?? "" },
      // deno-lint-ignore no-explicit-any
      metrics: (sm.metrics ?? []).map((m: any) => {
        const data = m.gauge ?? m.sum;
        return {
          name: m.name,
          description: m.description ?? "",
          unit: m.unit ?? "",
          kind: m.gauge ? "gauge" : "sum",
          ...(m.sum
            ? {
              isMonotonic: m.sum.isMonotonic ?? false,
              aggregationTemporality: m.sum.aggregationTemporality,
            }
            : {}),
          // deno-lint-ignore no-explicit-any
          dataPoints: (data?.dataPoints ?? []).map((p: any) => ({
            attributes: attrs(p.attributes),
            ...(p.startTimeUnixNano ? { startTimeUnixNano: p.startTimeUnixNano } : {}),
            timeUnixNano: p.timeUnixNano,
            asDouble: p.asDouble,
          })),
        };
      }),
    }))
  );
}

export class OtlpCollector extends LoopbackFake {
  readonly exports: DecodedExport[] = [];
  readonly headers: Headers[] = [];
  readonly faults = new Faults();
  requests = 0;
  /** The collector's base (what `otlp+http://` names). */
  get base(): string {
    return this.url;
  }

  protected async handle(req: Request): Promise<Response> {
    this.requests++;
    const fault = this.faults.next();
    const early = await applyFault(fault && !fault.slowOk ? fault : null, req);
    if (early) return early;
    if (new URL(req.url).pathname !== "/v1/metrics" || req.method !== "POST") {
      return new Response(null, { status: 404 });
    }
    let body = new Uint8Array(await req.arrayBuffer());
    if (req.headers.get("content-encoding") === "gzip") body = new Uint8Array(gunzipSync(body));
    try {
      this.exports.push(...decodeExport(body, req.headers.get("content-type")));
    } catch (err) {
      return new Response(String(err), { status: 400 });
    }
    this.headers.push(req.headers);
    if (fault?.slowOk) await sleep(fault.delayMs ?? 0);
    return new Response(null, { status: 200 });
  }

  /** Every data point of the named metric, in arrival order. */
  points(name: string): DecodedPoint[] {
    return this.exports.flatMap((e) =>
      e.metrics.filter((m) => m.name === name).flatMap((m) => m.dataPoints)
    );
  }
}
