/**
 * `http(s)://…`: POSTs each batch as gzip JSON Lines (or CSV with `#format=csv`), with
 * `Authorization: Bearer` from the variable named by `--http-token-env` (default
 * `TRACKER_HTTP_TOKEN`) when it is set. `Idempotency-Key` stays the same across retries of one
 * batch so a receiver can drop a duplicate after a lost response. 4xx other than 408/429 are
 * not retried. Redirects are never followed (a 301/302/303 would turn the POST into a GET
 * without its body): they are failures, retried and kept, with a warning naming the status and
 * the (redacted) `Location`.
 *
 * The spool never names a credential: job.json keeps no token variable (the caller's
 * `--http-token-env` is used at `flush` time), and a URL with user info or a query string is
 * stored redacted with a salted hash; `flush` needs the same `--sink URL` to send it.
 */
import { createEncoder, type Format } from "../formats/mod.ts";
import { batchedSink, type RemoteDeps, type Transport } from "./delivery.ts";
import { redactUrl } from "./redact.ts";
import { classify } from "./s3_client.ts";
import type { Sink } from "./sink.ts";
import type { JobMeta } from "./spool.ts";

export const DEFAULT_TOKEN_ENV = "TRACKER_HTTP_TOKEN";

export interface HttpMeta extends JobMeta {
  kind: "http";
  url: string;
  format: Format;
  /** Prefix of the idempotency keys. */
  run: string;
  /** Set when `url` is redacted: SHA-256 of `run` + the full URL, to match a `--sink` again. */
  urlHash?: string;
}

/** What the transport needs that the spool must not keep. */
export interface HttpSecrets {
  /** The full URL (user info and query string included). */
  url: string;
  /** The variable holding the bearer token, from the caller's options. */
  tokenEnv: string;
}

/** Whether a URL carries something that may be a secret (user info, a query string). */
export function urlHasSecrets(url: URL): boolean {
  return url.username !== "" || url.password !== "" || url.search !== "";
}

export async function urlHash(run: string, url: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`${run}\n${url}`));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
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

export function httpTransport(
  meta: HttpMeta,
  secrets: HttpSecrets,
  deps: Pick<RemoteDeps, "env" | "fetch">,
): Transport {
  const contentType = meta.format === "csv" ? "text/csv" : "application/x-ndjson";
  return {
    name: redactUrl(secrets.url),
    async send(seq, body, signal) {
      const headers: Record<string, string> = {
        "content-type": contentType,
        "content-encoding": "gzip",
        "idempotency-key": `${meta.run}-${seq}`,
        "x-batch-sequence": String(seq),
      };
      const token = deps.env(secrets.tokenEnv);
      if (token) headers["authorization"] = `Bearer ${token}`;
      const res = await deps.fetch(secrets.url, {
        method: "POST",
        headers,
        body: body as Uint8Array<ArrayBuffer>,
        signal,
        redirect: "manual",
      });
      await res.body?.cancel();
      if (res.status >= 300 && res.status < 400) {
        const to = res.headers.get("location");
        return { ok: false, reason: `HTTP ${res.status} redirect to ${where(to, secrets.url)}` };
      }
      const c = classify(res.status);
      if (c === "ok") return { ok: true };
      return { ok: false, permanent: c === "permanent", reason: `HTTP ${res.status}` };
    },
  };
}

/** A redirect's target, printable: resolved, redacted, no control characters. */
function where(location: string | null, base: string): string {
  if (location === null) return "(no Location), not followed";
  let abs = location;
  try {
    abs = new URL(location, base).toString();
  } catch { /* printed as given, redacted */ }
  // deno-lint-ignore no-control-regex -- control characters are what is removed
  return `${redactUrl(abs).replace(/[\x00-\x1f\x7f]/g, "?")}, not followed`;
}

export async function createHttpSink(
  uri: string,
  format: Format,
  intervalSecs: number,
  tokenEnv: string,
  deps: RemoteDeps,
): Promise<Sink> {
  const url = validateHttp(uri);
  url.hash = "";
  const encoder = createEncoder(format, intervalSecs);
  const full = url.toString();
  const run = crypto.randomUUID();
  const meta: HttpMeta = {
    version: 1,
    kind: "http",
    ext: format === "csv" ? "csv.gz" : "jsonl.gz",
    url: full,
    format,
    run,
  };
  if (urlHasSecrets(url)) {
    meta.url = redactUrl(full);
    meta.urlHash = await urlHash(run, full);
  }
  const transport = httpTransport(meta, { url: full, tokenEnv }, deps);
  return batchedSink("http", meta, transport, encoder, deps);
}
