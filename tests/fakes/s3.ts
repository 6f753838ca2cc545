/**
 * An S3-compatible fake on loopback (path style: `/<bucket>/<key>`): checks every SigV4
 * signature (credential scope, signed headers, payload hash, signature) against the keys it
 * knows, stores objects, and answers `HEAD /<bucket>` with `x-amz-bucket-region`.
 */
import { gunzipSync } from "node:zlib";
import { sha256Hex, sign } from "../../sinks/sigv4.ts";
import { applyFault, Faults, serve } from "./faults.ts";

export interface FakeKey {
  secret: string;
  token?: string;
  /** Answer 403 (ExpiredToken) for this key. */
  expired?: boolean;
}

export interface S3Call {
  method: string;
  path: string;
  status: number;
  region?: string;
  contentType?: string | null;
  signedHeaders?: string;
}

export class FakeS3 {
  readonly keys = new Map<string, FakeKey>();
  readonly objects = new Map<string, Uint8Array>();
  readonly calls: S3Call[] = [];
  readonly faults = new Faults();
  bucketRegion = "eu-west-3";
  #srv: ReturnType<typeof serve>;

  constructor(port = 0) {
    this.#srv = serve(
      (req) => this.#handle(req).catch(() => new Response(null, { status: 500 })),
      port,
    );
  }

  get url(): string {
    return this.#srv.url;
  }

  get port(): number {
    return this.#srv.port;
  }

  close(): Promise<void> {
    return this.#srv.server.shutdown();
  }

  /** Decoded text of every object under a prefix, by key. */
  texts(prefix = ""): Map<string, string> {
    const out = new Map<string, string>();
    for (const [k, v] of [...this.objects].sort(([a], [b]) => a.localeCompare(b))) {
      if (k.startsWith(prefix)) out.set(k, new TextDecoder().decode(gunzipSync(v)));
    }
    return out;
  }

  async #handle(req: Request): Promise<Response> {
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
    if (!m) return answer(403, "<Error><Code>AccessDenied</Code></Error>");
    const [, access, , region, signedHeaders, signature] = m;
    call.region = region!;
    call.signedHeaders = signedHeaders!;
    const key = this.keys.get(access!);
    if (!key) return answer(403, "<Error><Code>InvalidAccessKeyId</Code></Error>");
    const token = req.headers.get("x-amz-security-token") ?? undefined;
    if (key.token !== token) return answer(403, "<Error><Code>InvalidToken</Code></Error>");
    const payloadHash = req.headers.get("x-amz-content-sha256") ?? "";
    if (payloadHash !== sha256Hex(body)) {
      return answer(400, "<Error><Code>BadDigest</Code></Error>");
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
      return answer(403, "<Error><Code>SignatureDoesNotMatch</Code></Error>");
    }
    if (key.expired) return answer(403, "<Error><Code>ExpiredToken</Code></Error>");
    // Path style: /<bucket>/<key>; stored as "<bucket>/<key>".
    this.objects.set(decodeURIComponent(url.pathname.slice(1)), body);
    return answer(200);
  }
}
