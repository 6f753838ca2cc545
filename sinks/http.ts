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
import type { ResumeFn } from "./resume.ts";
import { classify, excerpt, readPrefix } from "./s3_client.ts";
import type { Sink } from "./sink.ts";
import type { JobMeta } from "./spool.ts";

export interface HttpMeta extends JobMeta {
  kind: "http";
  url: string;
  format: Format;
  /** Prefix of the idempotency keys. */
  run: string;
  /** Run metadata and tags, sent with every batch (`X-Tracker-Run-Metadata`). */
  runMeta?: RunMeta;
  /** Set when `url` is redacted: SHA-256 of `run` + the full URL, to match a `--sink` again. */
  urlHash?: string;
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

/** The full URL of a job: as stored, or the caller's `--sink` that hashes the same. */
async function jobUrl(meta: HttpMeta, sinkUris: readonly string[]): Promise<string | null> {
  if (typeof meta.urlHash !== "string") return meta.url;
  for (const uri of sinkUris) {
    let url: URL;
    try {
      url = new URL(uri.replace(/#format=\w+$/i, ""));
    } catch {
      continue;
    }
    url.hash = "";
    if (await urlHash(meta.run, url.toString()) === meta.urlHash) return url.toString();
  }
  return null;
}

/** `flush` for HTTP jobs: the token variable from the caller's options, the URL as above. */
export const resumeHttp: ResumeFn = async ({ job }, o) => {
  const m = job.meta as HttpMeta;
  const url = await jobUrl(m, o.sinkUris);
  if (url === null) {
    return {
      kept:
        `the URL (${m.url}) held credentials, which the spool does not keep; run \`flush --sink URL\` with the same URL`,
    };
  }
  return { transport: httpTransport(m, { url, tokenEnv: o.tokenEnv }, o.deps) };
};

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
      if (meta.runMeta) headers[METADATA_HEADER] = metadataHeader(meta.runMeta);
      const token = deps.env(secrets.tokenEnv);
      if (token) headers["authorization"] = `Bearer ${token}`;
      const res = await deps.fetch(secrets.url, {
        method: "POST",
        headers,
        body: body as Uint8Array<ArrayBuffer>,
        signal,
        redirect: "manual",
      });
      if (res.status >= 300 && res.status < 400) {
        await res.body?.cancel();
        const to = res.headers.get("location");
        return { ok: false, reason: `HTTP ${res.status} redirect to ${where(to, secrets.url)}` };
      }
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
  runMeta?: RunMeta,
): Promise<Sink> {
  // The registry checked the URI (sinks/registry.ts).
  const url = new URL(uri);
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
    ...(runMeta && fitsHeader(runMeta, deps.warn) ? { runMeta } : {}),
  };
  if (urlHasSecrets(url)) {
    meta.url = redactUrl(full);
    meta.urlHash = await urlHash(run, full);
  }
  const transport = httpTransport(meta, { url: full, tokenEnv }, deps);
  return batchedSink("http", meta, transport, encoder, deps);
}
