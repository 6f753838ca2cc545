/**
 * Sentinel streaming (docs/COMPATIBILITY.md Part A "Sentinel", Part B §5): register the run in the
 * background, upload gzip CSV batches to `<upload_uri_prefix>/<seq>.csv.gz` with the temporary
 * credentials it returns (refreshed when ≤ 300 s remain or after a 403), then `/finish` with
 * every uploaded URI, or inline with the CSV of every sample when no batch reached S3.
 * Response bodies are never printed: they hold STS credentials.
 */
import { CSV_HEADER } from "../formats/csv.ts";
import { createEncoder } from "../formats/mod.ts";
import { Delivery, networkReason, type RemoteDeps, type Transport } from "./delivery.ts";
import { type Redactor, redactUrl } from "./redact.ts";
import {
  classify,
  describeS3,
  joinKey,
  parseS3Uri,
  probeRegion,
  putObject,
  s3Endpoint,
  type S3Location,
  wrongRegion,
} from "./s3_client.ts";
import type { Credentials } from "./sigv4.ts";
import { resolveClose, type Sink, sleep } from "./sink.ts";
import { boundedText } from "./bounded_body.ts";
import { type JobMeta, newJobId, SpoolJob } from "./spool.ts";
import { errorText } from "../base/errors.ts";

export const DEFAULT_API_URL = "https://api.sentinel.sparecores.net";
const REFRESH_MARGIN_MS = 300_000;
const DEFAULT_REGION = "eu-central-1";
const API_TIMEOUT_MS = 30_000;

/** `SENTINEL_API_TOKEN`, else its alias `SENTINEL_API_KEY`; null when neither is set. */
export function sentinelToken(env: (name: string) => string | undefined): string | null {
  return env("SENTINEL_API_TOKEN")?.trim() || env("SENTINEL_API_KEY")?.trim() || null;
}

export function sentinelApiUrl(env: (name: string) => string | undefined): string {
  return (env("SENTINEL_API_URL")?.trim() || DEFAULT_API_URL).replace(/\/+$/, "");
}

export interface RunDescription {
  metadata: Record<string, string | null>;
  tags: Record<string, string>;
  command: readonly string[] | null;
  host: () => Promise<Record<string, unknown>>;
  cloud: (maxWaitMs: number) => Promise<Record<string, unknown>>;
}

export interface UploadCredentials extends Credentials {
  /** Unix ms; null = no expiry given; NaN = unparsable (refresh before use). */
  expiresAtMs: number | null;
  region: string | null;
}

export interface FinishRecord {
  exit_code: number;
  run_status: "finished" | "failed";
  finished_at: string;
}

/** What the spool keeps of a run (no credentials: `flush` refreshes them). */
export interface SentinelMeta extends JobMeta {
  kind: "sentinel";
  apiUrl: string;
  runId: string;
  uploadPrefix: string | null;
  uris: string[];
  finish: FinishRecord | null;
  /** The `/runs` body, kept while the run is not registered yet (`flush` registers it). */
  registration?: Record<string, unknown>;
}

export class SentinelApiError extends Error {
  constructor(what: string, readonly status: number | null, detail: string) {
    super(`Sentinel ${what} failed (${detail})`);
  }
}

/** The three API calls. Logs status codes and sizes only. */
export class SentinelApi {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
    private readonly fetchFn: typeof fetch,
    private readonly timeoutMs = API_TIMEOUT_MS,
  ) {}

  async #post(what: string, path: string, body: unknown, signal?: AbortSignal) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), this.timeoutMs);
    const onAbort = () => ctl.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const headers: Record<string, string> = {
        authorization: `Bearer ${this.token}`,
        accept: "application/json",
      };
      if (body !== undefined) headers["content-type"] = "application/json";
      let res: Response;
      try {
        res = await this.fetchFn(this.baseUrl + path, {
          method: "POST",
          headers,
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          signal: ctl.signal,
        });
      } catch (err) {
        const why = ctl.signal.aborted ? "timed out" : networkReason(err);
        throw new SentinelApiError(what, null, `cannot reach ${redactUrl(this.baseUrl)}: ${why}`);
      }
      let text: string;
      try {
        text = await boundedText(res);
      } catch (err) {
        throw new SentinelApiError(what, res.status, err instanceof Error ? err.message : "");
      }
      if (res.status < 200 || res.status >= 300) {
        throw new SentinelApiError(what, res.status, `HTTP ${res.status}, ${text.length} bytes`);
      }
      return text;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  async register(body: Record<string, unknown>, signal?: AbortSignal) {
    const text = await this.#post("registration", "/runs", body, signal);
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(text);
    } catch {
      throw new SentinelApiError("registration", 200, `unreadable answer, ${text.length} bytes`);
    }
    const runId = json["run_id"];
    if (typeof runId !== "string" && typeof runId !== "number") {
      throw new SentinelApiError("registration", 200, "answer has no run_id");
    }
    const prefix = typeof json["upload_uri_prefix"] === "string"
      ? json["upload_uri_prefix"] as string
      : null;
    return { runId: String(runId), uploadPrefix: prefix, credentials: parseCreds(json) };
  }

  async refresh(runId: string): Promise<UploadCredentials | null> {
    const text = await this.#post(
      "credential refresh",
      `/runs/${encodeURIComponent(runId)}/refresh-credentials`,
      undefined,
    );
    try {
      return parseCreds(JSON.parse(text));
    } catch {
      return null;
    }
  }

  async finish(runId: string, body: Record<string, unknown>, signal?: AbortSignal) {
    await this.#post("finish", `/runs/${encodeURIComponent(runId)}/finish`, body, signal);
  }
}

function parseCreds(json: Record<string, unknown>): UploadCredentials | null {
  const c = json["upload_credentials"];
  if (c === null || typeof c !== "object") return null;
  const o = c as Record<string, unknown>;
  const str = (k: string) => (typeof o[k] === "string" ? o[k] as string : null);
  const access = str("access_key"), secret = str("secret_key");
  if (!access || !secret) return null;
  const exp = str("expiration") ?? str("expires_at");
  return {
    accessKeyId: access,
    secretAccessKey: secret,
    sessionToken: str("session_token") ?? undefined,
    expiresAtMs: exp === null ? null : Date.parse(exp),
    region: str("region"),
  };
}

/** The flat `/runs` body: metadata, tags object, JSON-encoded command, host, cloud; no pid. */
export async function registrationBody(
  run: RunDescription,
  maxWaitMs = 3_000,
): Promise<Record<string, unknown>> {
  const within = <T>(p: Promise<T>, fallback: T) =>
    Promise.race([p.catch(() => fallback), sleep(maxWaitMs + 500).then(() => fallback)]);
  const [host, cloud] = await Promise.all([
    within(run.host(), {}),
    within(run.cloud(maxWaitMs), {}),
  ]);
  const body: Record<string, unknown> = {
    ...run.metadata,
    tags: { ...run.tags },
    command: run.command && run.command.length > 0 ? JSON.stringify(run.command) : null,
    ...host,
    ...cloud,
  };
  delete body["pid"];
  for (const [k, v] of Object.entries(body)) if (v === undefined) body[k] = null;
  return body;
}

/** `YYYY-MM-DDTHH:MM:SSZ`. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function finishRecord(exitCode: number, nowMs = Date.now()): FinishRecord {
  return {
    exit_code: exitCode,
    run_status: exitCode === 0 ? "finished" : "failed",
    finished_at: isoSeconds(nowMs),
  };
}

/** S3 uploads with the run's temporary credentials. */
export class SentinelUploader implements Transport {
  readonly name = "Sentinel upload";
  #creds: UploadCredentials | null = null;
  #region: string | null = null;
  #loc: S3Location;
  #refreshFailedReported = false;

  constructor(
    private readonly api: SentinelApi,
    private readonly meta: SentinelMeta,
    creds: UploadCredentials | null,
    private readonly deps: Pick<RemoteDeps, "env" | "fetch" | "warn">,
    private readonly redactor: Redactor,
  ) {
    this.#loc = parseS3Uri(meta.uploadPrefix ?? "");
    this.#setCreds(creds);
  }

  #setCreds(c: UploadCredentials | null) {
    this.#creds = c;
    if (c) {
      this.redactor.add(c.accessKeyId);
      this.redactor.add(c.secretAccessKey);
      this.redactor.add(c.sessionToken);
    }
  }

  async refresh(): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const c = await this.api.refresh(this.meta.runId);
        if (c) {
          this.#setCreds(c);
          return;
        }
      } catch (err) {
        if (attempt === 1 && !this.#refreshFailedReported) {
          this.#refreshFailedReported = true;
          this.deps.warn(`${errorText(err)}; using the old credentials`);
        }
      }
      if (attempt === 0) await sleep(1_000);
    }
  }

  async send(seq: number, body: Uint8Array, signal: AbortSignal) {
    const c = this.#creds;
    // Refresh when ≤ 300 s remain; NaN (unparsable expiry) compares false and refreshes too.
    if (!c || (c.expiresAtMs !== null && !(c.expiresAtMs - Date.now() > REFRESH_MARGIN_MS))) {
      await this.refresh();
    }
    const creds = this.#creds;
    if (!creds) return { ok: false as const, reason: "no upload credentials" };
    const endpoint = s3Endpoint(this.deps.env);
    this.#region ??= creds.region ??
      (await probeRegion(this.deps.fetch, this.#loc.bucket, endpoint)) ?? DEFAULT_REGION;
    const key = joinKey(this.#loc.prefix, `${String(seq).padStart(6, "0")}.csv.gz`);
    const signedFor = this.#region;
    const r = await putObject({
      fetch: this.deps.fetch,
      credentials: creds,
      region: signedFor,
      bucket: this.#loc.bucket,
      key,
      body,
      contentType: "application/gzip",
      endpoint,
      signal,
    });
    const c2 = classify(r.status);
    if (c2 === "ok") return { ok: true as const, uri: `s3://${this.#loc.bucket}/${key}` };
    const moved = wrongRegion(r, signedFor);
    if (moved) {
      this.#region = moved;
      return {
        ok: false as const,
        reason: `${describeS3(r)} (bucket is in ${moved}, not ${signedFor}; retrying there)`,
      };
    }
    if (r.status === 403 || r.status === 400) {
      // Expired or revoked session credentials (AWS answers 400 ExpiredToken or 403).
      await this.refresh();
      return { ok: false as const, reason: describeS3(r) };
    }
    return { ok: false as const, permanent: c2 === "permanent", reason: describeS3(r) };
  }
}

export interface SentinelOptions {
  token: string;
  run: RunDescription;
  intervalSecs: number;
  deps: RemoteDeps;
  redactor: Redactor;
  /** How long registration may wait for cloud discovery. */
  cloudWaitMs?: number;
}

/**
 * Ends a run: S3 route when every batch is uploaded, inline when none is; otherwise (or when
 * `/finish` itself fails) the batches and the finish record stay in the spool for `flush`.
 * Returns a line to print, or null when all went well.
 */
export async function completeRun(
  api: SentinelApi,
  meta: SentinelMeta,
  delivery: Delivery,
  spool: SpoolJob | null,
  finish: FinishRecord,
  deadline: number,
): Promise<string | null> {
  const left = delivery.undelivered();
  let body: Record<string, unknown> | null = null;
  if (left.length === 0 && meta.uris.length > 0) {
    body = { ...finish, data_source: "s3", data_uris: meta.uris };
  } else if (meta.uris.length === 0) {
    let csv = CSV_HEADER;
    for (const b of left) csv += await delivery.text(b);
    body = { ...finish, data_source: "inline", data_csv: csv };
  }
  let why = "some batches are not uploaded yet";
  if (body) {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), Math.max(1_000, deadline - Date.now()));
    try {
      await api.finish(meta.runId, body, ctl.signal);
      await delivery.discard();
      await spool?.release(false);
      return null;
    } catch (err) {
      why = errorText(err);
    } finally {
      clearTimeout(timer);
    }
  }
  const done: SentinelMeta = { ...meta, finish };
  if (spool) await spool.saveMeta({ ...spool.meta, ...done });
  const kept = await delivery.keep();
  if (spool && !spool.exists) {
    // Nothing was pending but /finish failed: keep the record so `flush` can finish the run.
    try {
      await spool.create();
      await spool.saveMeta({ ...spool.meta, ...done });
      await spool.release(true);
      kept.dir = spool.dir;
    } catch { /* reported below */ }
  }
  const where = kept.dir
    ? `; run kept in "${kept.dir}" (finish it with \`resource-tracker flush\`)`
    : "";
  return `Sentinel run ${meta.runId}: ${why}${where}` +
    (kept.lost > 0 ? `; ${kept.lost} samples lost (${kept.reason})` : "");
}

/** Whether a failed API call may succeed later (network, timeout, 5xx, 408, 429). */
function transient(err: unknown): boolean {
  if (!(err instanceof SentinelApiError)) return true;
  const st = err.status;
  return st === null || st === 408 || st === 429 || st >= 500;
}

const errLine = (err: unknown) => errorText(err);

/**
 * Keeps a run the API never registered: the registration body, every batch and the finish
 * record go to the spool, so `resource-tracker flush` can register, upload and finish it later.
 * Returns the line to print.
 */
async function keepUnregistered(
  meta: SentinelMeta,
  delivery: Delivery,
  spool: SpoolJob | null,
  why: string,
  retryable: boolean,
): Promise<string> {
  const samples = delivery.undelivered().reduce((n, b) => n + b.samples, 0) +
    delivery.backlog.open;
  const lastError = { reason: `run not registered: ${why}`, rejected: false, at: Date.now() };
  meta = { ...meta, lastError };
  if (spool) await spool.saveMeta({ ...spool.meta, ...meta });
  const kept = await delivery.keep(lastError.reason);
  let dir = kept.dir;
  if (spool && !dir) {
    // No sample was cut (a very short run): the registration and finish are still worth keeping.
    try {
      await spool.create();
      await spool.saveMeta({ ...spool.meta, ...meta });
      await spool.release(true);
      dir = spool.dir;
    } catch { /* reported below */ }
  }
  if (!dir) {
    return `${why}; the run could not be kept (${
      kept.reason ?? "no spool directory"
    }): ${samples} samples lost`;
  }
  return `${why}; the run (${kept.samples} samples) is kept in "${dir}"; ` +
    `send it with \`resource-tracker flush\` once the ${
      retryable ? "API is reachable" : "problem is fixed"
    }` +
    (kept.lost > 0 ? `; ${kept.lost} samples lost (${kept.reason})` : "");
}

export function createSentinelSink(o: SentinelOptions): Sink {
  const { deps, redactor } = o;
  redactor.add(o.token);
  const api = new SentinelApi(sentinelApiUrl(deps.env), o.token, deps.fetch);
  const encoder = createEncoder("csv", o.intervalSecs);
  let meta: SentinelMeta = {
    version: 1,
    kind: "sentinel",
    ext: "csv.gz",
    apiUrl: api.baseUrl,
    runId: "",
    uploadPrefix: null,
    uris: [],
    finish: null,
  };
  const spool = deps.spoolRoot
    ? new SpoolJob(deps.spoolRoot, newJobId("sentinel"), meta, deps.spoolFs)
    : null;
  let uploader: SentinelUploader | null = null;
  const transport: Transport = {
    name: "Sentinel upload",
    send: (seq, body, signal) =>
      uploader
        ? uploader.send(seq, body, signal)
        : Promise.resolve({ ok: false, permanent: true, reason: "no upload location" }),
  };
  const delivery = new Delivery({
    transport,
    header: CSV_HEADER,
    tuning: deps.tuning,
    spool,
    warn: deps.warn,
    paused: true,
    onDelivered: (_b, uri) => {
      if (uri) meta.uris.push(uri);
    },
  });
  let state: "registering" | "ready" = "registering";
  let closed = false;
  let lastError = "Sentinel registration did not finish before exit";
  let lastRetryable = true;
  const stopRetrying = new AbortController();
  let backingOff = false;
  let finished = false;

  // Registration is retried in the background while the API is unreachable; samples pile up
  // (in memory, then in the spool) and go out once it answers, or stay for `flush`.
  const registered = (async () => {
    const body = await registrationBody(o.run, o.cloudWaitMs ?? 3_000);
    meta = { ...meta, registration: body };
    for (let attempt = 1; !stopRetrying.signal.aborted; attempt++) {
      let r: Awaited<ReturnType<SentinelApi["register"]>>;
      try {
        r = await api.register(body, stopRetrying.signal);
      } catch (err) {
        if (stopRetrying.signal.aborted) {
          lastError = "Sentinel registration got no answer before exit";
          return;
        }
        lastError = errLine(err);
        const again = transient(err);
        lastRetryable = again;
        if (attempt === 1) {
          deps.warn(
            `${lastError}; ${
              again ? "retrying in the background" : "not retrying"
            }; samples are kept for Sentinel`,
          );
        }
        if (!again) return;
        backingOff = true;
        const exp = Math.min(
          deps.tuning.retryMaxMs,
          deps.tuning.retryBaseMs * 2 ** Math.min(attempt - 1, 20),
        );
        await sleep(exp, stopRetrying.signal);
        backingOff = false;
        continue;
      }
      meta = { ...meta, runId: r.runId, uploadPrefix: r.uploadPrefix };
      // Not fatal: the run id is saved again with the finish record or the batches.
      if (spool) await spool.saveMeta({ ...spool.meta, ...meta }).catch(() => {});
      let canUpload = false;
      if (r.uploadPrefix) {
        try {
          uploader = new SentinelUploader(api, meta, r.credentials, deps, redactor);
          canUpload = true;
        } catch {
          deps.warn("Sentinel returned an unusable upload location; samples go inline at exit");
        }
      }
      state = "ready";
      if (canUpload) delivery.resume();
      return;
    }
  })().finally(() => (finished = true));

  return {
    name: "Sentinel",
    write(sample) {
      if (!closed) delivery.push(encoder.encode(sample));
    },
    async close(info) {
      if (closed) return;
      closed = true;
      const { exitCode, deadline } = resolveClose(info);
      const finish = finishRecord(exitCode);
      // A registration being prepared or in flight may still answer within the grace period;
      // one that failed and waits for its next try is not tried again (the run goes to the
      // spool), so an API that refuses connections does not hold up the exit.
      // A signal during the exit flush shortens the wait (the run then goes to the spool).
      while (
        !finished && !backingOff && !info?.signal?.aborted && Date.now() < deadline - 500
      ) await sleep(20, info?.signal);
      stopRetrying.abort();
      await Promise.race([registered, sleep(500, info?.signal)]);
      if (state !== "ready") {
        await delivery.stop();
        // Exit came before the host and cloud facts: register with what is known now.
        const registration = meta.registration ?? await registrationBody(o.run, 0);
        const line = await keepUnregistered(
          { ...meta, registration, finish },
          delivery,
          spool,
          lastError,
          lastRetryable,
        );
        deps.warn(line);
        return;
      }
      // Keep a slice of the grace period for /finish.
      const reserve = Math.min(3_000, Math.max(0, (deadline - Date.now()) / 3));
      if (uploader) await delivery.drain(deadline - reserve, info?.signal);
      else await delivery.cut();
      await delivery.stop();
      const line = await completeRun(api, meta, delivery, spool, finish, deadline);
      if (line) deps.warn(line);
    },
  };
}
