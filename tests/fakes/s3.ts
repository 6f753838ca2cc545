/**
 * An S3-compatible fake on loopback (path style: `/<bucket>/<key>`): checks every SigV4
 * signature (credential scope, signed headers, payload hash, signature) against the keys it
 * knows, stores objects, and answers `HEAD /<bucket>` with `x-amz-bucket-region`.
 */
import { gunzipSync } from "node:zlib";
import { sha256Hex, sign } from "../../sinks/sigv4.ts";
import { applyFault, Faults } from "./faults.ts";
import { LoopbackFake } from "./loopback.ts";

export interface FakeKey {
  secret: string;
  token?: string;
  /** Answer 403 (ExpiredToken) for this key. */
  expired?: boolean;
  /** Answer 403 (AccessDenied) for this key: valid, but no right to write. */
  denied?: boolean;
}

/** An S3 error document as AWS writes it. */
function errorXml(code: string, message: string, extra = ""): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>${extra}<RequestId>4442587FB7D0A2F9</RequestId></Error>`;
}

export interface S3Call {
  method: string;
  path: string;
  status: number;
  region?: string;
  contentType?: string | null;
  signedHeaders?: string;
}

export class FakeS3 extends LoopbackFake {
  readonly keys = new Map<string, FakeKey>();
  readonly objects = new Map<string, Uint8Array>();
  readonly calls: S3Call[] = [];
  readonly faults = new Faults();
  bucketRegion = "eu-west-3";
  /** Buckets that exist (any bucket when null): others get 404 NoSuchBucket. */
  buckets: Set<string> | null = null;
  /** Refuse requests signed for another region than `bucketRegion`, as AWS does. */
  checkRegion = false;
  /** Decoded text of every batch object under a prefix, by key. */
  texts(prefix = ""): Map<string, string> {
    const out = new Map<string, string>();
    for (const [k, v] of [...this.objects].sort(([a], [b]) => a.localeCompare(b))) {
      // Batches only (`.gz`); the run manifest is plain JSON.
      if (k.startsWith(prefix) && k.endsWith(".gz")) {
        out.set(k, new TextDecoder().decode(gunzipSync(v)));
      }
    }
    return out;
  }

  protected async handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const call: S3Call = { method: req.method, path: url.pathname, status: 0 };
    this.calls.push(call);
    const answer = (status: number, body = "") => {
      call.status = status;
      return new Response(body || null, { status });
    };
    if (req.method === "HEAD") {
      call.status = 200;
      return new Response(null, {
        status: 200,
        headers: { "x-amz-bucket-region": this.bucketRegion },
      });
    }
    const fault = await applyFault(this.faults.next(), req);
    if (fault) {
      call.status = fault.status;
      return fault;
    }
    if (req.method !== "PUT") return answer(405);
    const body = new Uint8Array(await req.arrayBuffer());
    call.contentType = req.headers.get("content-type");
    const auth = req.headers.get("authorization") ?? "";
    const m =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/
        .exec(auth);
    if (!m) return answer(403, errorXml("AccessDenied", "Access Denied"));
    const [, access, , region, signedHeaders, signature] = m;
    call.region = region!;
    call.signedHeaders = signedHeaders!;
    const key = this.keys.get(access!);
    const bucket = decodeURIComponent(url.pathname.slice(1).split("/")[0] ?? "");
    if (this.buckets !== null && !this.buckets.has(bucket)) {
      return answer(404, errorXml("NoSuchBucket", "The specified bucket does not exist"));
    }
    if (this.checkRegion && region !== this.bucketRegion) {
      call.status = 400;
      return new Response(
        errorXml(
          "AuthorizationHeaderMalformed",
          `The authorization header is malformed; the region '${region}' is wrong; expecting '${this.bucketRegion}'`,
          `<Region>${this.bucketRegion}</Region>`,
        ),
        { status: 400, headers: { "x-amz-bucket-region": this.bucketRegion } },
      );
    }
    if (!key) {
      return answer(
        403,
        errorXml(
          "InvalidAccessKeyId",
          "The AWS Access Key Id you provided does not exist in our records.",
        ),
      );
    }
    const token = req.headers.get("x-amz-security-token") ?? undefined;
    if (key.token !== token) {
      return answer(403, errorXml("InvalidToken", "The provided token is malformed."));
    }
    const payloadHash = req.headers.get("x-amz-content-sha256") ?? "";
    if (payloadHash !== sha256Hex(body)) {
      return answer(400, errorXml("BadDigest", "The Content-SHA256 you specified did not match."));
    }
    const expected = sign({
      method: "PUT",
      host: req.headers.get("host") ?? "",
      path: url.pathname,
      payloadHash,
      amzDate: req.headers.get("x-amz-date") ?? "",
      region: region!,
      credentials: { accessKeyId: access!, secretAccessKey: key.secret, sessionToken: token },
    });
    const want = token
      ? "host;x-amz-content-sha256;x-amz-date;x-amz-security-token"
      : "host;x-amz-content-sha256;x-amz-date";
    if (signedHeaders !== want || expected.signature !== signature) {
      return answer(
        403,
        errorXml(
          "SignatureDoesNotMatch",
          "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
          "<StringToSign>AWS4-HMAC-SHA256 secret-free</StringToSign>",
        ),
      );
    }
    if (key.expired) {
      return answer(403, errorXml("ExpiredToken", "The provided token has expired."));
    }
    if (key.denied) return answer(403, errorXml("AccessDenied", "Access Denied"));
    // Path style: /<bucket>/<key>; stored as "<bucket>/<key>".
    this.objects.set(decodeURIComponent(url.pathname.slice(1)), body);
    return answer(200);
  }
}
