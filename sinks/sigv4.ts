/**
 * AWS Signature Version 4 for S3 PUT/HEAD (docs/COMPATIBILITY.md Part B §6). With a session token the signed
 * headers are exactly `host;x-amz-content-sha256;x-amz-date;x-amz-security-token` (the Sentinel
 * variant); without one (a user's static keys) the token header is simply left out.
 */
import { createHash, createHmac } from "node:crypto";

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** STS session token; absent for long-lived keys. */
  sessionToken?: string | undefined;
}

export interface SignInput {
  method: string;
  /** Host header value, with `:port` when not the default port. */
  host: string;
  /** Canonical (already URI-encoded) path, starting with `/`. */
  path: string;
  /** Hex SHA-256 of the body, also sent as `x-amz-content-sha256`. */
  payloadHash: string;
  /** `YYYYMMDDTHHMMSSZ`. */
  amzDate: string;
  region: string;
  service?: string;
  credentials: Credentials;
}

export interface Signed {
  /** Headers to send (besides Content-Type/Length, which are not signed). */
  headers: Record<string, string>;
  canonicalRequest: string;
  stringToSign: string;
  signature: string;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function hmac(key: string | Uint8Array, data: string): Uint8Array {
  return createHmac("sha256", key).update(data).digest();
}

/** `20130524T000000Z` from Unix milliseconds. */
export function amzDate(unixMs: number): string {
  return new Date(unixMs).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

export function signingKey(secret: string, dateStamp: string, region: string, service = "s3") {
  const kDate = hmac("AWS4" + secret, dateStamp);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  return hmac(kService, "aws4_request");
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

export function sign(i: SignInput): Signed {
  const service = i.service ?? "s3";
  const dateStamp = i.amzDate.slice(0, 8);
  const token = i.credentials.sessionToken;
  const canon: [string, string][] = [
    ["host", i.host],
    ["x-amz-content-sha256", i.payloadHash],
    ["x-amz-date", i.amzDate],
  ];
  if (token) canon.push(["x-amz-security-token", token]);
  const signedHeaders = canon.map(([k]) => k).join(";");
  const canonicalRequest = [
    i.method,
    i.path,
    "", // no query string
    ...canon.map(([k, v]) => `${k}:${v.trim()}`),
    "",
    signedHeaders,
    i.payloadHash,
  ].join("\n");
  const scope = `${dateStamp}/${i.region}/${service}/aws4_request`;
  const stringToSign = [
    "AWS4-HMAC-SHA256",
    i.amzDate,
    scope,
    sha256Hex(canonicalRequest),
  ].join("\n");
  const key = signingKey(i.credentials.secretAccessKey, dateStamp, i.region, service);
  const signature = createHmac("sha256", key).update(stringToSign).digest("hex");
  const headers: Record<string, string> = {
    "x-amz-content-sha256": i.payloadHash,
    "x-amz-date": i.amzDate,
    "authorization": `AWS4-HMAC-SHA256 Credential=${i.credentials.accessKeyId}/${scope}, ` +
      `SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
  if (token) headers["x-amz-security-token"] = token;
  return { headers, canonicalRequest, stringToSign, signature };
}
