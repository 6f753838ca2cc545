/**
 * The Sentinel HTTP API (docs/COMPATIBILITY.md Part B §5): `POST /runs` registers a run and
 * hands out an upload prefix with temporary S3 credentials, `refresh-credentials` renews them,
 * `/finish` closes the run. Only status codes and sizes are ever printed: the answers hold STS
 * credentials.
 */
import { boundedText } from "./bounded_body.ts";
import { networkReason } from "./delivery.ts";
import { redactUrl } from "./redact.ts";
import type { Credentials } from "./s3_client.ts";
import type { RunInfo } from "./sink.ts";
import { errorText } from "../base/errors.ts";
import { sleep } from "../base/time.ts";

export const DEFAULT_API_URL = "https://api.sentinel.sparecores.net";
const API_TIMEOUT_MS = 30_000;

/** `SENTINEL_API_URL` without trailing slashes, else the public API. */
export function sentinelApiUrl(env: (name: string) => string | undefined): string {
  return (env("SENTINEL_API_URL")?.trim() || DEFAULT_API_URL).replace(/\/+$/, "");
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

export class SentinelApiError extends Error {
  constructor(what: string, readonly status: number | null, detail: string) {
    super(`Sentinel ${what} failed (${detail})`);
  }
}

/** Whether a failed API call may succeed later (network, timeout, 5xx, 408, 429). */
export function transient(err: unknown): boolean {
  if (!(err instanceof SentinelApiError)) return true;
  const st = err.status;
  return st === null || st === 408 || st === 429 || st >= 500;
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
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const until = signal ? AbortSignal.any([timeout, signal]) : timeout;
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
        signal: until,
      });
    } catch (err) {
      const why = until.aborted ? "timed out" : networkReason(err);
      throw new SentinelApiError(what, null, `cannot reach ${redactUrl(this.baseUrl)}: ${why}`);
    }
    let text: string;
    try {
      text = await boundedText(res);
    } catch (err) {
      throw new SentinelApiError(what, res.status, errorText(err));
    }
    if (res.status < 200 || res.status >= 300) {
      throw new SentinelApiError(what, res.status, `HTTP ${res.status}, ${text.length} bytes`);
    }
    return text;
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

/** `upload_credentials` of an answer; `expiration` (R) or `expires_at` (Python) for the expiry. */
export function parseCreds(json: Record<string, unknown>): UploadCredentials | null {
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
  run: RunInfo,
  maxWaitMs = 3_000,
): Promise<Record<string, unknown>> {
  const waited = new AbortController(); // ends the fallback timers once both are in
  const within = <T>(p: Promise<T>, fallback: T) =>
    Promise.race([
      p.catch(() => fallback),
      sleep(maxWaitMs + 500, waited.signal).then(() => fallback),
    ]);
  const [host, cloud] = await Promise.all([
    within(run.host(), {}),
    within(run.cloud(maxWaitMs), {}),
  ]).finally(() => waited.abort());
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
