/**
 * A Prometheus remote-write receiver on loopback for the sink contract: it snappy-decodes each
 * body and parses it with protobufjs against the message definitions of Prometheus'
 * `prompb/remote.proto` and `types.proto` (copied below), not with the tracker's encoder.
 */
import protobuf from "protobufjs";
import snappy from "snappyjs";
import { sleep } from "../../base/time.ts";
import { applyFault, Faults } from "./faults.ts";
import { LoopbackFake } from "./loopback.ts";

const PROTO = `
syntax = "proto3";
package prometheus;
message WriteRequest { repeated TimeSeries timeseries = 1; reserved 2; }
message TimeSeries { repeated Label labels = 1; repeated Sample samples = 2; }
message Label { string name = 1; string value = 2; }
message Sample { double value = 1; int64 timestamp = 2; }
`;
const WriteRequest = protobuf.parse(PROTO).root.lookupType("prometheus.WriteRequest");

export interface Series {
  labels: Record<string, string>;
  samples: { value: number; timestamp: number }[];
}

export class RemoteWriteReceiver extends LoopbackFake {
  readonly series: Series[] = [];
  readonly faults = new Faults();
  requests = 0;
  /** Where the sink posts (the server's root plus Prometheus' path). */
  override get url(): string {
    return `${super.url}/api/v1/write`;
  }

  protected async handle(req: Request): Promise<Response> {
    this.requests++;
    const fault = this.faults.next();
    const early = await applyFault(fault && !fault.slowOk ? fault : null, req);
    if (early) return early;
    if (
      req.headers.get("content-encoding") !== "snappy" ||
      req.headers.get("content-type") !== "application/x-protobuf" ||
      req.headers.get("x-prometheus-remote-write-version") !== "0.1.0"
    ) return new Response("bad headers", { status: 400 });
    const body = snappy.uncompress(new Uint8Array(await req.arrayBuffer())) as Uint8Array;
    const msg = WriteRequest.toObject(WriteRequest.decode(body), { longs: Number }) as {
      timeseries?: { labels?: { name: string; value: string }[]; samples?: Series["samples"] }[];
    };
    for (const ts of msg.timeseries ?? []) {
      this.series.push({
        labels: Object.fromEntries((ts.labels ?? []).map((l) => [l.name, l.value])),
        samples: ts.samples ?? [],
      });
    }
    if (fault?.slowOk) await sleep(fault.delayMs ?? 0);
    return new Response(null, { status: 204 });
  }

  /** Timestamps of every sample of the series named `name`, in arrival order. */
  timestamps(name: string): number[] {
    return this.series.filter((s) => s.labels.__name__ === name).flatMap((s) =>
      s.samples.map((x) => x.timestamp)
    );
  }
}
