/**
 * A minimal S3 client: one signed PUT and the bucket-region probe. Virtual-hosted style on AWS
 * (`<bucket>.s3.<region>.amazonaws.com`), path style on an endpoint override
 * (`AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`, e.g. MinIO or a loopback fake).
 */
import { bucketProblem } from "./s3_names.ts";
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

/** `s3://bucket/some/prefix` → bucket and prefix; throws a plain message when malformed. */
export function parseS3Uri(uri: string): S3Location {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw new Error("expected s3://BUCKET/PREFIX");
  const bucket = m[1]!;
  const problem = bucketProblem(bucket);
  if (problem) throw new Error(`bucket name ${JSON.stringify(bucket)} ${problem}`);
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

/** What S3 answered to a PUT. */
export interface PutResult {
  status: number;
  /** `<Code>` of the error document (`AccessDenied`, `NoSuchBucket`, …), when there is one. */
  code: string | null;
  /** `<Message>`, one line, bounded. */
  message: string | null;
  /** The bucket's region when S3 says the request went to the wrong one. */
  region: string | null;
}

/** Reads at most `limit` bytes of a body as text and cancels the rest. */
export async function readPrefix(res: Response, limit: number): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      size += value.length;
    }
  } catch {
    /* a broken body leaves what was read */
  } finally {
    await reader.cancel().catch(() => {});
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return new TextDecoder().decode(all.subarray(0, limit));
}

/** One line of printable text, at most `max` characters. */
export function excerpt(text: string, max = 160): string {
  // deno-lint-ignore no-control-regex
  const flat = text.replace(/[\x00-\x1f\x7f]+/g, " ").replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
}

function xmlField(xml: string, tag: string): string | null {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  return m
    ? excerpt(
      m[1]!.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, "<")
        .replace(/&gt;/g, ">").replace(/&amp;/g, "&"),
    ) || null
    : null;
}

/** The S3 error document of a failed answer (only `Code`, `Message` and `Region` are kept). */
export async function s3Result(res: Response): Promise<PutResult> {
  const xml = res.ok ? "" : await readPrefix(res, 16 * 1024);
  if (res.ok) await res.body?.cancel();
  const header = res.headers.get("x-amz-bucket-region");
  const region = header ?? xmlField(xml, "Region");
  return {
    status: res.status,
    code: xmlField(xml, "Code"),
    message: xmlField(xml, "Message"),
    region: region && /^[a-z0-9-]+$/.test(region) ? region : null,
  };
}

/** `HTTP 403 AccessDenied: Access Denied`, the reason printed for a failed PUT. */
export function describeS3(r: PutResult): string {
  const code = r.code ? ` ${r.code}` : "";
  const msg = r.message ? `: ${r.message}` : "";
  return `HTTP ${r.status}${code}${msg}`;
}

/** A region redirect: S3 names the bucket's region and it differs from the one signed for. */
export function wrongRegion(r: PutResult, signedFor: string): string | null {
  if (r.region === null || r.region === signedFor) return null;
  const redirect = r.status === 301 || r.status === 307 ||
    r.code === "PermanentRedirect" || r.code === "AuthorizationHeaderMalformed" ||
    r.code === "IllegalLocationConstraintException";
  return redirect ? r.region : null;
}

/** PUTs one object; resolves what S3 answered (the error document's code and message). */
export async function putObject(i: PutInput): Promise<PutResult> {
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
  return await s3Result(res);
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
