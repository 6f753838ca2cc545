/**
 * `prometheus+remote-write://HOST:PORT/PATH` (and `prometheus+remote-write+https://`): pushes
 * the metrics to a Prometheus-compatible store (Prometheus with
 * `--web.enable-remote-write-receiver`, VictoriaMetrics, Mimir, Thanos receive) as remote
 * write 1.0: snappy-compressed protobuf `WriteRequest`s, batched every upload interval through
 * the shared queue and spool. Series carry `job="resource-tracker"`, `instance` (the host
 * name) and the run's identity labels; a bearer token comes from `--http-token-env`.
 */
import snappy from "snappyjs";
import { type Identity, identityLabels } from "../metrics/model.ts";
import { encodeWriteRequest, toSeries } from "../metrics/remote_write.ts";
import { batchedSink, type RemoteDeps, type Transport } from "./delivery.ts";
import { frameEncoder, framesOf, post } from "./frames.ts";
import { redactUrl } from "./redact.ts";
import type { ResumeFn } from "./resume.ts";
import type { Sink } from "./sink.ts";
import type { JobMeta } from "./spool.ts";

export interface RemoteWriteMeta extends JobMeta {
  kind: "remote-write";
  url: string;
  labels: Record<string, string>;
}

const SCHEME = /^prometheus\+remote-write(\+https)?:\/\//i;

export function isRemoteWrite(uri: string): boolean {
  return SCHEME.test(uri);
}

/** The HTTP(S) URL a `prometheus+remote-write…://` URI names; throws a plain message. */
export function remoteWriteUrl(uri: string): URL {
  const m = SCHEME.exec(uri);
  if (!m) throw new Error("expected prometheus+remote-write://HOST:PORT/PATH");
  let url: URL;
  try {
    url = new URL(`${m[1] ? "https" : "http"}://${uri.slice(m[0].length)}`);
  } catch {
    throw new Error("not a valid URL");
  }
  if (!url.hostname) throw new Error("expected a host");
  if (url.pathname === "/") throw new Error("expected the write path, e.g. /api/v1/write");
  url.hash = "";
  return url;
}

/** `tokenEnv` comes from the caller's options, never from the spool (README, data safety). */
export function remoteWriteTransport(
  meta: RemoteWriteMeta,
  tokenEnv: string,
  deps: Pick<RemoteDeps, "env" | "fetch">,
): Transport {
  return {
    name: `remote write ${redactUrl(meta.url)}`,
    async send(_seq, body, signal) {
      const series = toSeries(await framesOf(body), meta.labels);
      const payload = snappy.compress(encodeWriteRequest(series)) as Uint8Array;
      const headers: Record<string, string> = {
        "content-type": "application/x-protobuf",
        "content-encoding": "snappy",
        "x-prometheus-remote-write-version": "0.1.0",
      };
      const token = deps.env(tokenEnv);
      if (token) headers["authorization"] = `Bearer ${token}`;
      return await post(deps.fetch, meta.url, headers, payload, signal);
    },
  };
}

/** `flush` for remote write jobs: the token variable from the caller's options. */
export const resumeRemoteWrite: ResumeFn = ({ job }, o) =>
  Promise.resolve({
    transport: remoteWriteTransport(job.meta as RemoteWriteMeta, o.tokenEnv, o.deps),
  });

export function createRemoteWriteSink(
  uri: string,
  run: Identity,
  tokenEnv: string,
  deps: RemoteDeps,
): Sink {
  const meta: RemoteWriteMeta = {
    version: 1,
    kind: "remote-write",
    ext: "frames.jsonl.gz",
    url: remoteWriteUrl(uri).toString(),
    labels: { job: "resource-tracker", instance: Deno.hostname(), ...identityLabels(run) },
  };
  const transport = remoteWriteTransport(meta, tokenEnv, deps);
  return batchedSink("remote-write", meta, transport, frameEncoder(), deps);
}
