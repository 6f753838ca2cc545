/**
 * `s3://bucket/prefix`: the user's own bucket. Every upload interval one object
 * `<prefix>/<run>/<seq>.csv.gz` (or `.jsonl.gz` with `#format=json`), signed with the static or
 * session keys of `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`. Region from
 * `AWS_REGION`/`AWS_DEFAULT_REGION`, else the bucket's own (HEAD probe), else us-east-1.
 */
import { createEncoder, type Format } from "../formats/mod.ts";
import type { Transport } from "./delivery.ts";
import { redactUrl } from "./redact.ts";
import { batchedSink, type RemoteDeps } from "./remote.ts";
import { joinKey, parseS3Uri, s3Endpoint, s3Put, type S3Target } from "./s3_client.ts";
import type { RunInfo, Sink } from "./sink.ts";
import { batchName, type JobMeta, newJobId } from "./spool.ts";

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

export function s3Transport(meta: S3Meta, deps: Pick<RemoteDeps, "env" | "fetch">): Transport {
  const env = deps.env;
  const target: S3Target = {
    fetch: deps.fetch,
    bucket: meta.bucket,
    endpoint: s3Endpoint(env),
    region: env("AWS_REGION") || env("AWS_DEFAULT_REGION") || null,
    fallbackRegion: "us-east-1",
  };
  let manifestSent = meta.manifest === undefined;
  const put = (key: string, body: Uint8Array, contentType: string, signal: AbortSignal) =>
    s3Put(target, {
      key,
      body,
      contentType,
      signal,
      credentials: {
        accessKeyId: env("AWS_ACCESS_KEY_ID") ?? "",
        secretAccessKey: env("AWS_SECRET_ACCESS_KEY") ?? "",
        sessionToken: env("AWS_SESSION_TOKEN") || undefined,
      },
    });
  return {
    name: redactUrl(`s3://${meta.bucket}/${meta.prefix}`).replace(/\/$/, ""),
    async send(seq, body, signal) {
      if (!manifestSent) {
        // The manifest goes first, so whoever finds the batches finds what run they are.
        const doc = new TextEncoder().encode(JSON.stringify(meta.manifest, null, 2) + "\n");
        const r = await put(
          joinKey(meta.prefix, meta.run, MANIFEST_NAME),
          doc,
          "application/json",
          signal,
        );
        if (!r.ok) return { ...r, reason: `run manifest: ${r.reason}` };
        manifestSent = true;
      }
      return await put(
        joinKey(meta.prefix, meta.run, batchName(seq, meta.ext)),
        body,
        "application/gzip",
        signal,
      );
    },
  };
}

export function createS3Sink(
  uri: string,
  format: Format,
  intervalSecs: number,
  deps: RemoteDeps,
  run?: Pick<RunInfo, "metadata" | "tags" | "command">,
): Sink {
  // The keys were checked with the URI (the registry's validate); the endpoint is checked here,
  // still before the run starts.
  const loc = parseS3Uri(uri);
  s3Endpoint(deps.env);
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
