/**
 * A fake Sentinel API on loopback, recording every call: `POST /runs` hands out an upload
 * prefix on the fake S3 and temporary credentials it registers there; refresh issues new ones;
 * `/finish` stores the body. One `LoopbackFake` with a small route table.
 */
import { applyFault, Faults } from "./faults.ts";
import { LoopbackFake } from "./loopback.ts";
import type { FakeS3 } from "./s3.ts";

export interface ApiCall {
  method: string;
  path: string;
  status: number;
  authorization: string | null;
  contentType: string | null;
  contentEncoding: string | null;
  userAgent: string | null;
  body: Record<string, unknown> | null;
}

export interface FakeSentinelOptions {
  token?: string;
  bucket?: string;
  /** Seconds until the issued credentials expire. */
  ttlSecs?: number;
  /** Name of the expiry key: R's `expiration` or Py's `expires_at`. */
  expiryKey?: "expiration" | "expires_at";
  /** Region to put in `upload_credentials.region` (none when undefined). */
  region?: string;
  /** Path the API lives under (e.g. `/api/v1`); requests outside it get 404. */
  prefix?: string;
  /** Hands out real temporary credentials (e.g. from moto's STS) instead of fake ones. */
  issue?: () => Promise<{ access: string; secret: string; token: string }>;
}

export class FakeSentinel extends LoopbackFake {
  readonly calls: ApiCall[] = [];
  /** Faults per route: "runs", "refresh", "finish". */
  readonly faults = { runs: new Faults(), refresh: new Faults(), finish: new Faults() };
  readonly o: Required<Omit<FakeSentinelOptions, "region" | "prefix" | "issue">> & {
    region?: string;
    prefix?: string;
    issue?: FakeSentinelOptions["issue"];
  };
  issued: string[] = [];
  #n = 0;

  constructor(readonly s3: FakeS3, o: FakeSentinelOptions = {}, port = 0) {
    super(port);
    this.o = {
      token: "sentinel-test-token-123",
      bucket: "sentinel-bucket",
      ttlSecs: 3600,
      expiryKey: "expiration",
      ...o,
    };
  }

  /** The environment that points the tracker at this API, with uploads to `s3Url`. */
  env(s3Url = this.s3.url): Record<string, string> {
    return {
      SENTINEL_API_TOKEN: this.o.token,
      SENTINEL_API_URL: this.url,
      AWS_ENDPOINT_URL_S3: s3Url,
    };
  }

  calls_(path: RegExp): ApiCall[] {
    return this.calls.filter((c) => path.test(c.path));
  }

  async #creds() {
    const n = ++this.#n;
    let access = `ASIAFAKE${String(n).padStart(8, "0")}`;
    let secret = `fake-secret-${n}-${crypto.randomUUID()}`;
    let token = `fake-session-${n}-${crypto.randomUUID()}`;
    if (this.o.issue) ({ access, secret, token } = await this.o.issue());
    else this.s3.keys.set(access, { secret, token });
    this.issued.push(access);
    const c: Record<string, string> = {
      access_key: access,
      secret_key: secret,
      session_token: token,
      [this.o.expiryKey]: new Date(Date.now() + this.o.ttlSecs * 1000).toISOString(),
    };
    if (this.o.region) c["region"] = this.o.region;
    return c;
  }

  protected async handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const text = await req.text();
    let body: Record<string, unknown> | null = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch { /* recorded as null */ }
    const call: ApiCall = {
      method: req.method,
      path: url.pathname,
      status: 0,
      authorization: req.headers.get("authorization"),
      contentType: req.headers.get("content-type"),
      contentEncoding: req.headers.get("content-encoding"),
      userAgent: req.headers.get("user-agent"),
      body,
    };
    this.calls.push(call);
    const reply = (status: number, json?: unknown) => {
      call.status = status;
      return json === undefined ? new Response(null, { status }) : Response.json(json, { status });
    };
    if (call.authorization !== `Bearer ${this.o.token}`) return reply(401, { detail: "bad token" });
    const prefix = this.o.prefix ?? "";
    if (!url.pathname.startsWith(prefix + "/")) return reply(404);
    const path = url.pathname.slice(prefix.length);
    const route = path === "/runs"
      ? "runs"
      : /^\/runs\/[^/]+\/refresh-credentials$/.test(path)
      ? "refresh"
      : /^\/runs\/[^/]+\/finish$/.test(path)
      ? "finish"
      : null;
    if (req.method !== "POST" || route === null) return reply(404);
    const fault = await applyFault(this.faults[route].next(), req);
    if (fault) {
      call.status = fault.status;
      return fault;
    }
    if (route === "runs") {
      const id = `run-${this.calls.length}-${crypto.randomUUID().slice(0, 6)}`;
      return reply(200, {
        run_id: id,
        upload_uri_prefix: `s3://${this.o.bucket}/uploads/${id}`,
        upload_credentials: await this.#creds(),
      });
    }
    if (route === "refresh") return reply(200, { upload_credentials: await this.#creds() });
    return reply(200, { run: { run_status: body?.["run_status"] }, processing: { status: "ok" } });
  }
}
