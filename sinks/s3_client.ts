/**
 * A minimal S3 client: one signed PUT and the bucket-region probe. Virtual-hosted style on AWS
 * (`<bucket>.s3.<region>.amazonaws.com`), path style on an endpoint override
 * (`AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`, e.g. MinIO or a loopback fake). Both S3 sinks (the
 * user's bucket and Sentinel's uploads) put through `s3Put`. Signatures come from aws4fetch,
 * loaded on the first PUT (docs/ARCHITECTURE.md "Start-up"); tests/fakes/sigv4.ts checks
 * them independently.
 */
import { bucketProblem } from "./s3_names.ts";
import { excerpt, readPrefix } from "./bounded_body.ts";
import { classify, type Outcome } from "./delivery.ts";
import { redactUrl } from "./redact.ts";

export type Fetch = typeof fetch;

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** STS session token; absent for long-lived keys. */
  sessionToken?: string | undefined;
}

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

/** S3 path encoding: every byte but unreserved characters, per segment (slashes kept). */
export function encodeS3Path(key: string): string {
  return key.split("/").map((seg) =>
    encodeURIComponent(seg).replace(
      /[!'()*]/g,
      (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase(),
    )
  ).join("/");
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

export function sha256Hex(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>).then((d) =>
    Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("")
  );
}

type Aws4 = typeof import("aws4fetch");
let aws4: Promise<Aws4> | undefined;

export interface SignInput {
  method: string;
  /** The full URL; its path already S3-encoded (`encodeS3Path`). */
  url: string;
  /** Hex SHA-256 of the body, sent (and signed) as `x-amz-content-sha256`. */
  payloadHash: string;
  region: string;
  credentials: Credentials;
  /** `YYYYMMDDTHHMMSSZ`; now when absent. */
  amzDate?: string;
}

/**
 * The SigV4 headers of an S3 request: `x-amz-content-sha256`, `x-amz-date`, `authorization`,
 * and `x-amz-security-token` with session credentials. Signed headers are exactly
 * `host;x-amz-content-sha256;x-amz-date[;x-amz-security-token]` (docs/COMPATIBILITY.md
 * Part B §6): nothing else is passed to the signer.
 */
export async function signS3(i: SignInput): Promise<Record<string, string>> {
  const { AwsV4Signer } = await (aws4 ??= import("aws4fetch"));
  const signed = await new AwsV4Signer({
    method: i.method,
    url: i.url,
    headers: { "x-amz-content-sha256": i.payloadHash },
    accessKeyId: i.credentials.accessKeyId,
    secretAccessKey: i.credentials.secretAccessKey,
    ...(i.credentials.sessionToken ? { sessionToken: i.credentials.sessionToken } : {}),
    service: "s3",
    region: i.region,
    ...(i.amzDate ? { datetime: i.amzDate } : {}),
  }).sign();
  return Object.fromEntries(signed.headers);
}

/** PUTs one object; resolves what S3 answered (the error document's code and message). */
export async function putObject(i: PutInput): Promise<PutResult> {
  const addr = objectAddress(i.bucket, i.key, i.region, i.endpoint);
  const headers = await signS3({
    method: "PUT",
    url: addr.url,
    payloadHash: await sha256Hex(i.body),
    region: i.region,
    credentials: i.credentials,
  });
  const res = await i.fetch(addr.url, {
    method: "PUT",
    headers: { ...headers, "content-type": i.contentType },
    body: i.body as Uint8Array<ArrayBuffer>,
    signal: i.signal,
    redirect: "manual", // a 3xx is an answer (kept, reported), never followed
  });
  return await s3Result(res);
}

/** A bucket the sinks write to, and the region learned for it along the way. */
export interface S3Target {
  fetch: Fetch;
  bucket: string;
  endpoint: URL | null;
  /** Signed for; null until known (then the bucket's own, from a HEAD probe, else `fallbackRegion`). */
  region: string | null;
  fallbackRegion: string;
}

/** What one `s3Put` did: the delivery outcome, the HTTP status, and whether S3 named another region. */
export type S3Outcome = Outcome & { status: number; redirected: boolean };

/**
 * PUTs one object to `target`. Success carries `s3://bucket/key`; a region redirect switches
 * the target's region for the next try (and is retried); other failures are retried or kept
 * as `classify` says. Callers may treat a status differently (Sentinel refreshes on 403).
 */
export async function s3Put(
  target: S3Target,
  o: {
    key: string;
    body: Uint8Array;
    contentType: string;
    credentials: Credentials;
    signal: AbortSignal;
  },
): Promise<S3Outcome> {
  target.region ??= (await probeRegion(target.fetch, target.bucket, target.endpoint)) ??
    target.fallbackRegion;
  const signedFor = target.region;
  const r = await putObject({
    ...o,
    fetch: target.fetch,
    region: signedFor,
    bucket: target.bucket,
    endpoint: target.endpoint,
  });
  const c = classify(r.status);
  if (c === "ok") {
    return { ok: true, uri: `s3://${target.bucket}/${o.key}`, status: r.status, redirected: false };
  }
  const moved = wrongRegion(r, signedFor);
  if (moved) {
    // S3 named the bucket's region: sign for it from now on and try again.
    target.region = moved;
    return {
      ok: false,
      reason: `${describeS3(r)} (bucket is in ${moved}, not ${signedFor}; retrying there)`,
      status: r.status,
      redirected: true,
    };
  }
  return {
    ok: false,
    permanent: c === "permanent",
    reason: describeS3(r),
    status: r.status,
    redirected: false,
  };
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
  try {
    const res = await fetchFn(url, {
      method: "HEAD",
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "manual",
    });
    await res.body?.cancel();
    const region = res.headers.get("x-amz-bucket-region");
    return region && /^[a-z0-9-]+$/.test(region) ? region : null;
  } catch {
    return null;
  }
}
