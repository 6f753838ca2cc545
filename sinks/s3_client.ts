/**
 * A minimal S3 client: one signed PUT and the bucket-region probe. Virtual-hosted style on AWS
 * (`<bucket>.s3.<region>.amazonaws.com`), path style on an endpoint override
 * (`AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`, e.g. MinIO or a loopback fake).
 */
import { amzDate, type Credentials, encodeS3Path, sha256Hex, sign } from "./sigv4.ts";

import { redactUrl } from "./redact.ts";

export type Fetch = typeof fetch;

/** `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`, else null (real AWS). */
export function s3Endpoint(env: (name: string) => string | undefined): URL | null {
  const raw = env("AWS_ENDPOINT_URL_S3") || env("AWS_ENDPOINT_URL");
  if (!raw) return null;
  try {
    return new URL(raw);
  } catch {
    // Never quoted whole: an endpoint may carry user:password (redactUrl drops it).
    throw new Error(`invalid S3 endpoint URL ${JSON.stringify(redactUrl(raw))}`);
  }
}

export interface S3Location {
  bucket: string;
  /** Key prefix without leading or trailing slash ("" for the bucket root). */
  prefix: string;
}

const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** `s3://bucket/some/prefix` → bucket and prefix; throws a plain message when malformed. */
export function parseS3Uri(uri: string): S3Location {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw new Error("expected s3://BUCKET/PREFIX");
  const bucket = m[1]!;
  if (!BUCKET_RE.test(bucket)) throw new Error(`invalid bucket name ${JSON.stringify(bucket)}`);
  return { bucket, prefix: m[2]!.replace(/^\/+|\/+$/g, "") };
}

export function joinKey(...parts: string[]): string {
  return parts.filter((p) => p !== "").join("/");
}

export interface ObjectAddress {
  url: string;
  host: string;
  /** Canonical path (encoded), as signed. */
  path: string;
}

export function objectAddress(
  bucket: string,
  key: string,
  region: string,
  endpoint: URL | null,
): ObjectAddress {
  const encoded = encodeS3Path(key);
  if (endpoint) {
    const base = endpoint.pathname.replace(/\/+$/, "");
    const path = `${base}/${bucket}/${encoded}`;
    return { url: `${endpoint.protocol}//${endpoint.host}${path}`, host: endpoint.host, path };
  }
  const host = `${bucket}.s3.${region}.amazonaws.com`;
  return { url: `https://${host}/${encoded}`, host, path: `/${encoded}` };
}

export interface PutInput {
  fetch: Fetch;
  credentials: Credentials;
  region: string;
  bucket: string;
  key: string;
  body: Uint8Array;
  contentType: string;
  endpoint: URL | null;
  signal: AbortSignal;
  nowMs?: number;
}

/** PUTs one object; resolves the HTTP status (the response body is read and discarded). */
export async function putObject(i: PutInput): Promise<number> {
  const addr = objectAddress(i.bucket, i.key, i.region, i.endpoint);
  const signed = sign({
    method: "PUT",
    host: addr.host,
    path: addr.path,
    payloadHash: sha256Hex(i.body),
    amzDate: amzDate(i.nowMs ?? Date.now()),
    region: i.region,
    credentials: i.credentials,
  });
  const res = await i.fetch(addr.url, {
    method: "PUT",
    headers: { ...signed.headers, "content-type": i.contentType },
    body: i.body as Uint8Array<ArrayBuffer>,
    signal: i.signal,
    redirect: "manual", // a 3xx is an answer (kept, reported), never followed
  });
  await res.body?.cancel();
  return res.status;
}

/** What to do after an S3 or HTTP status. */
export function classify(status: number): "ok" | "retry" | "permanent" {
  if (status >= 200 && status < 300) return "ok";
  if (status === 408 || status === 429 || status >= 500) return "retry";
  return "permanent";
}

/**
 * The bucket's region from an unsigned `HEAD` (`x-amz-bucket-region`, present on 200, 301 and
 * 403 answers alike); null when it cannot be told within `timeoutMs`.
 */
export async function probeRegion(
  fetchFn: Fetch,
  bucket: string,
  endpoint: URL | null,
  timeoutMs = 2_000,
): Promise<string | null> {
  const url = endpoint
    ? `${endpoint.protocol}//${endpoint.host}${endpoint.pathname.replace(/\/+$/, "")}/${bucket}`
    : `https://${bucket}.s3.amazonaws.com/`;
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  try {
    const res = await fetchFn(url, { method: "HEAD", signal: ctl.signal, redirect: "manual" });
    await res.body?.cancel();
    const region = res.headers.get("x-amz-bucket-region");
    return region && /^[a-z0-9-]+$/.test(region) ? region : null;
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}
