/**
 * `http(s)://…`: POSTs each batch as gzip JSON Lines (or CSV with `#format=csv`), with
 * `Authorization: Bearer` from the variable named by `--http-token-env` (default
 * `TRACKER_HTTP_TOKEN`) when it is set. `Idempotency-Key` stays the same across retries of one
 * batch so a receiver can drop a duplicate after a lost response. 4xx other than 408/429 are
 * not retried.
 */
import { createEncoder, type Format } from "../formats/mod.ts";
import { batchedSink, type RemoteDeps, type Transport } from "./delivery.ts";
import { redactUrl } from "./redact.ts";
import { classify, excerpt, readPrefix } from "./s3_client.ts";
import type { Sink } from "./sink.ts";
import type { JobMeta } from "./spool.ts";

export const DEFAULT_TOKEN_ENV = "TRACKER_HTTP_TOKEN";

export interface HttpMeta extends JobMeta {
  kind: "http";
  url: string;
  format: Format;
  tokenEnv: string;
  /** Prefix of the idempotency keys. */
  run: string;
  /** Run metadata and tags, sent with every batch (`X-Tracker-Run-Metadata`). */
  runMeta?: RunMeta;
}

export interface RunMeta {
  metadata: Record<string, string | null>;
  tags: Record<string, string>;
}

/** Header carrying the run metadata: compact JSON, non-ASCII escaped (headers are ASCII). */
export const METADATA_HEADER = "x-tracker-run-metadata";

/** `{"job_name":"…","project_name":"…","tags":{…}}`: set fields only, as one header value. */
export function metadataHeader(m: RunMeta): string {
  const set = Object.fromEntries(Object.entries(m.metadata).filter(([, v]) => v !== null));
  return JSON.stringify({ ...set, tags: m.tags }).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

export function validateHttp(uri: string): URL {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new Error("not a valid URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("expected http(s)");
  return url;
}

/** Servers refuse large header blocks (often at 8 KiB in all); ours stays well below. */
export const MAX_METADATA_HEADER = 4096;

function fitsHeader(m: RunMeta, warn: (line: string) => void): boolean {
  const size = metadataHeader(m).length;
  if (size <= MAX_METADATA_HEADER) return true;
  warn(
    `run metadata and tags take ${size} bytes, over the ${MAX_METADATA_HEADER}-byte header limit; HTTP batches go without ${METADATA_HEADER}`,
  );
  return false;
}

export function httpTransport(meta: HttpMeta, deps: Pick<RemoteDeps, "env" | "fetch">): Transport {
  const contentType = meta.format === "csv" ? "text/csv" : "application/x-ndjson";
  return {
    name: redactUrl(meta.url),
    async send(seq, body, signal) {
      const headers: Record<string, string> = {
        "content-type": contentType,
        "content-encoding": "gzip",
        "idempotency-key": `${meta.run}-${seq}`,
        "x-batch-sequence": String(seq),
      };
      if (meta.runMeta) headers[METADATA_HEADER] = metadataHeader(meta.runMeta);
      const token = deps.env(meta.tokenEnv);
      if (token) headers["authorization"] = `Bearer ${token}`;
      const res = await deps.fetch(meta.url, {
        method: "POST",
        headers,
        body: body as Uint8Array<ArrayBuffer>,
        signal,
      });
      const c = classify(res.status);
      if (c === "ok") {
        await res.body?.cancel();
        return { ok: true };
      }
      // The start of the answer helps more than the status alone; it is bounded, one line,
      // and goes through the redactor with every other warning.
      const text = excerpt(await readPrefix(res, 1024), 200);
      const status = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ""}`;
      return {
        ok: false,
        permanent: c === "permanent",
        reason: text ? `${status}: ${JSON.stringify(text)}` : status,
      };
    },
  };
}

export function createHttpSink(
  uri: string,
  format: Format,
  intervalSecs: number,
  tokenEnv: string,
  deps: RemoteDeps,
  runMeta?: RunMeta,
): Sink {
  const url = validateHttp(uri);
  url.hash = "";
  const encoder = createEncoder(format, intervalSecs);
  const meta: HttpMeta = {
    version: 1,
    kind: "http",
    ext: format === "csv" ? "csv.gz" : "jsonl.gz",
    url: url.toString(),
    format,
    tokenEnv,
    run: crypto.randomUUID(),
    ...(runMeta && fitsHeader(runMeta, deps.warn) ? { runMeta } : {}),
  };
  const transport = httpTransport(meta, deps);
  return batchedSink("http", meta, transport, encoder, deps);
}
