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
  /** `run.json` written next to the batches: run metadata, tags, command, format. */
  manifest?: Record<string, unknown>;
}

/** The run manifest's key: `<prefix>/<run>/run.json`. */
export const MANIFEST_NAME = "run.json";

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
  let manifestSent = meta.manifest === undefined;
  const credentials = () => ({
    accessKeyId: env("AWS_ACCESS_KEY_ID") ?? "",
    secretAccessKey: env("AWS_SECRET_ACCESS_KEY") ?? "",
    sessionToken: env("AWS_SESSION_TOKEN") || undefined,
  });
  /** One PUT; a region redirect switches the region for the next try. */
  const put = async (key: string, body: Uint8Array, contentType: string, signal: AbortSignal) => {
    region ??= (await probeRegion(deps.fetch, meta.bucket, endpoint)) ?? "us-east-1";
    const signedFor = region;
    const r = await putObject({
      fetch: deps.fetch,
      credentials: credentials(),
      region: signedFor,
      bucket: meta.bucket,
      key,
      body,
      contentType,
      endpoint,
      signal,
    });
    const c = classify(r.status);
    if (c === "ok") return null;
    const moved = wrongRegion(r, signedFor);
    if (moved) {
      // S3 named the bucket's region: sign for it from now on and try again.
      region = moved;
      return {
        ok: false as const,
        reason: `${describeS3(r)} (bucket is in ${moved}, not ${signedFor}; retrying there)`,
      };
    }
    return { ok: false as const, permanent: c === "permanent", reason: describeS3(r) };
  };
  return {
    name: redactUrl(`s3://${meta.bucket}/${meta.prefix}`).replace(/\/$/, ""),
    async send(seq, body, signal) {
      if (!manifestSent) {
        // The manifest goes first, so whoever finds the batches finds what run they are.
        const doc = new TextEncoder().encode(JSON.stringify(meta.manifest, null, 2) + "\n");
        const failed = await put(
          joinKey(meta.prefix, meta.run, MANIFEST_NAME),
          doc,
          "application/json",
          signal,
        );
        if (failed) return { ...failed, reason: `run manifest: ${failed.reason}` };
        manifestSent = true;
      }
      const key = joinKey(meta.prefix, meta.run, `${String(seq).padStart(6, "0")}.${meta.ext}`);
      const failed = await put(key, body, "application/gzip", signal);
      return failed ?? { ok: true, uri: `s3://${meta.bucket}/${key}` };
    },
  };
}

export function createS3Sink(
  uri: string,
  format: Format,
  intervalSecs: number,
  deps: RemoteDeps,
  run?: {
    metadata: Record<string, string | null>;
    tags: Record<string, string>;
    command: readonly string[] | null;
  },
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
  if (run) {
    meta.manifest = {
      run: meta.run,
      format: format === "csv" ? "csv" : "jsonl",
      batches: `${joinKey(meta.prefix, meta.run)}/NNNNNN.${meta.ext}`,
      command: run.command ? [...run.command] : null,
      metadata: { ...run.metadata },
      tags: { ...run.tags },
    };
  }
  const transport = s3Transport(meta, deps);
  return batchedSink("s3", meta, transport, encoder, deps);
}
