/**
 * Prometheus remote write 1.0: frames → `prometheus.WriteRequest` (protobuf), one time series
 * per metric and label set with its samples in time order, labels sorted by name with
 * `__name__` among them, as the specification requires. Snappy block compression is the
 * caller's (sinks/remote_write.ts).
 */
import { type Frame, METRICS, promLabel, promName } from "./model.ts";
import { PbWriter } from "./protobuf.ts";

interface Series {
  labels: [string, string][];
  samples: [number, number][];
}

/** Groups the frames into series; `labels` are added to every series (identity, job, instance). */
export function toSeries(frames: readonly Frame[], labels: Record<string, string>): Series[] {
  const byKey = new Map<string, Series>();
  for (const f of frames) {
    for (const p of f.p) {
      const all: Record<string, string> = { ...labels, __name__: promName(METRICS[p.k]) };
      for (const [k, v] of Object.entries(p.a ?? {})) all[promLabel(k)] = v;
      const sorted = Object.entries(all).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const key = JSON.stringify(sorted);
      let s = byKey.get(key);
      if (!s) byKey.set(key, s = { labels: sorted, samples: [] });
      s.samples.push([p.v, f.t]);
    }
  }
  for (const s of byKey.values()) s.samples.sort((a, b) => a[1] - b[1]);
  return [...byKey.values()];
}

export function encodeWriteRequest(series: readonly Series[]): Uint8Array {
  const req = new PbWriter();
  for (const s of series) {
    const ts = new PbWriter();
    for (const [name, value] of s.labels) {
      ts.message(1, new PbWriter().string(1, name).string(2, value));
    }
    for (const [value, t] of s.samples) {
      ts.message(2, new PbWriter().double(1, value).varint(2, t));
    }
    req.message(1, ts);
  }
  return req.finish();
}
