/**
 * `s3://bucket/prefix`: the user's own bucket. Every upload interval one object
 * `<prefix>/<run>/<seq>.csv.gz` (or `.jsonl.gz` with `#format=json`), signed with the static or
 * session keys of `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`. Region from
 * `AWS_REGION`/`AWS_DEFAULT_REGION`, else the bucket's own (HEAD probe), else us-east-1.
 */
import { createEncoder, type Format } from "../formats/mod.ts";
import { batchedSink, type RemoteDeps, type Transport } from "./delivery.ts";
import { redactUrl } from "./redact.ts";
import {
  classify,
  describeS3,
  joinKey,
  parseS3Uri,
  probeRegion,
  putObject,
  s3Endpoint,
  type S3Location,
  wrongRegion,
} from "./s3_client.ts";
import type { Sink } from "./sink.ts";
import { type JobMeta, newJobId } from "./spool.ts";

export interface S3Meta extends JobMeta {
  kind: "s3";
  bucket: string;
  prefix: string;
  /** Per-run key segment. */
  run: string;
}

/** Checks what can be checked before the run starts; throws a plain message. */
export function validateS3(uri: string, env: (name: string) => string | undefined): S3Location {
  const loc = parseS3Uri(uri);
  if (!env("AWS_ACCESS_KEY_ID") || !env("AWS_SECRET_ACCESS_KEY")) {
    throw new Error("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set");
  }
  s3Endpoint(env);
  return loc;
}

export function s3Transport(meta: S3Meta, deps: Pick<RemoteDeps, "env" | "fetch">): Transport {
  const env = deps.env;
  const endpoint = s3Endpoint(env);
  let region: string | null = env("AWS_REGION") || env("AWS_DEFAULT_REGION") || null;
  return {
    name: redactUrl(`s3://${meta.bucket}/${meta.prefix}`).replace(/\/$/, ""),
    async send(seq, body, signal) {
      region ??= (await probeRegion(deps.fetch, meta.bucket, endpoint)) ?? "us-east-1";
      const key = joinKey(meta.prefix, meta.run, `${String(seq).padStart(6, "0")}.${meta.ext}`);
      const signedFor = region;
      const r = await putObject({
        fetch: deps.fetch,
        credentials: {
          accessKeyId: env("AWS_ACCESS_KEY_ID") ?? "",
          secretAccessKey: env("AWS_SECRET_ACCESS_KEY") ?? "",
          sessionToken: env("AWS_SESSION_TOKEN") || undefined,
        },
        region: signedFor,
        bucket: meta.bucket,
        key,
        body,
        contentType: "application/gzip",
        endpoint,
        signal,
      });
      const c = classify(r.status);
      if (c === "ok") return { ok: true, uri: `s3://${meta.bucket}/${key}` };
      const moved = wrongRegion(r, signedFor);
      if (moved) {
        // S3 named the bucket's region: sign for it from now on and try again.
        region = moved;
        return {
          ok: false,
          reason: `${describeS3(r)} (bucket is in ${moved}, not ${signedFor}; retrying there)`,
        };
      }
      return { ok: false, permanent: c === "permanent", reason: describeS3(r) };
    },
  };
}

export function createS3Sink(
  uri: string,
  format: Format,
  intervalSecs: number,
  deps: RemoteDeps,
): Sink {
  const loc = validateS3(uri, deps.env);
  const encoder = createEncoder(format, intervalSecs);
  const meta: S3Meta = {
    version: 1,
    kind: "s3",
    ext: format === "csv" ? "csv.gz" : "jsonl.gz",
    bucket: loc.bucket,
    prefix: loc.prefix,
    run: newJobId("run").slice(4),
  };
  const transport = s3Transport(meta, deps);
  return batchedSink("s3", meta, transport, encoder, deps);
}
