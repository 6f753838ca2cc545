/**
 * OTLP metrics (opentelemetry/proto/collector/metrics/v1): frames → one
 * `ExportMetricsServiceRequest`, as OTLP/JSON (the specification's JSON mapping: lowerCamelCase
 * names, 64-bit integers as decimal strings, enums as numbers) or as protobuf. Counters are
 * cumulative monotonic sums, up-down counters non-monotonic sums, the rest gauges.
 */
import { type Frame, type MetricDef, METRICS } from "./model.ts";
import { PbWriter } from "./protobuf.ts";

export type AttrValue = string | number | boolean;

export interface OtlpContext {
  /** Resource attributes (run identity, host, cloud). */
  resource: Record<string, AttrValue>;
  scopeVersion: string;
  /** Start of the cumulative sums counted since the tracker started, Unix ns. */
  startNs: bigint;
  /** Start of the sums counted since boot (disk and network bytes), Unix ns. */
  bootNs: bigint;
}

const CUMULATIVE = 2;

interface JsonKeyValue {
  key: string;
  value: { stringValue: string } | { doubleValue: number } | { boolValue: boolean } | {
    intValue: string;
  };
}

function kv(key: string, v: AttrValue): JsonKeyValue {
  if (typeof v === "boolean") return { key, value: { boolValue: v } };
  if (typeof v === "number") {
    return Number.isInteger(v)
      ? { key, value: { intValue: String(v) } }
      : { key, value: { doubleValue: v } };
  }
  return { key, value: { stringValue: v } };
}

interface JsonPoint {
  attributes: JsonKeyValue[];
  startTimeUnixNano?: string;
  timeUnixNano: string;
  asDouble: number;
}

interface JsonMetric {
  name: string;
  description: string;
  unit: string;
  gauge?: { dataPoints: JsonPoint[] };
  sum?: { dataPoints: JsonPoint[]; aggregationTemporality: number; isMonotonic: boolean };
}

export interface OtlpRequest {
  resourceMetrics: {
    resource: { attributes: JsonKeyValue[] };
    scopeMetrics: {
      scope: { name: string; version: string };
      metrics: JsonMetric[];
    }[];
  }[];
}

/** The request in the OTLP/JSON shape (also the input of the protobuf encoder). */
export function buildRequest(frames: readonly Frame[], c: OtlpContext): OtlpRequest {
  const metrics = new Map<MetricDef, JsonMetric>();
  for (const f of frames) {
    const t = String(BigInt(f.t) * 1_000_000n);
    for (const p of f.p) {
      const def: MetricDef = METRICS[p.k];
      let m = metrics.get(def);
      if (!m) {
        m = { name: def.otel, description: def.help, unit: def.unit };
        if (def.type === "gauge") m.gauge = { dataPoints: [] };
        else {
          m.sum = {
            dataPoints: [],
            aggregationTemporality: CUMULATIVE,
            isMonotonic: def.type === "counter",
          };
        }
        metrics.set(def, m);
      }
      const pt: JsonPoint = {
        attributes: Object.entries(p.a ?? {}).map(([k, v]) => kv(k, v)),
        timeUnixNano: t,
        asDouble: p.v,
      };
      if (m.sum) pt.startTimeUnixNano = String(def.sinceBoot ? c.bootNs : c.startNs);
      (m.gauge ?? m.sum)!.dataPoints.push(pt);
    }
  }
  return {
    resourceMetrics: [{
      resource: { attributes: Object.entries(c.resource).map(([k, v]) => kv(k, v)) },
      scopeMetrics: [{
        scope: { name: "resource-tracker", version: c.scopeVersion },
        metrics: [...metrics.values()],
      }],
    }],
  };
}

function pbKeyValue(a: JsonKeyValue): PbWriter {
  const v = new PbWriter();
  const val = a.value as Record<string, unknown>;
  if ("stringValue" in val) v.string(1, val.stringValue as string);
  else if ("boolValue" in val) v.varint(2, val.boolValue as boolean);
  else if ("intValue" in val) v.varint(3, BigInt(val.intValue as string));
  else v.double(4, val.doubleValue as number);
  return new PbWriter().string(1, a.key).message(2, v);
}

function pbPoint(p: JsonPoint): PbWriter {
  const w = new PbWriter();
  if (p.startTimeUnixNano) w.fixed64(2, BigInt(p.startTimeUnixNano));
  w.fixed64(3, BigInt(p.timeUnixNano));
  w.double(4, p.asDouble);
  for (const a of p.attributes) w.message(7, pbKeyValue(a));
  return w;
}

/** `ExportMetricsServiceRequest` as protobuf bytes. */
export function encodeProtobuf(req: OtlpRequest): Uint8Array {
  const out = new PbWriter();
  for (const rm of req.resourceMetrics) {
    const resource = new PbWriter();
    for (const a of rm.resource.attributes) resource.message(1, pbKeyValue(a));
    const rmW = new PbWriter().message(1, resource);
    for (const sm of rm.scopeMetrics) {
      const smW = new PbWriter().message(
        1,
        new PbWriter().string(1, sm.scope.name).string(2, sm.scope.version),
      );
      for (const m of sm.metrics) {
        const mW = new PbWriter().string(1, m.name).string(2, m.description).string(3, m.unit);
        if (m.gauge) {
          const g = new PbWriter();
          for (const p of m.gauge.dataPoints) g.message(1, pbPoint(p));
          mW.message(5, g);
        } else if (m.sum) {
          const s = new PbWriter();
          for (const p of m.sum.dataPoints) s.message(1, pbPoint(p));
          s.varint(2, m.sum.aggregationTemporality).varint(3, m.sum.isMonotonic);
          mW.message(7, s);
        }
        smW.message(2, mW);
      }
      rmW.message(2, smW);
    }
    out.message(1, rmW);
  }
  return out.finish();
}
