/**
 * HTTP plumbing shared by the probes: one request with its own timeout, bounded body reads,
 * short error lines that never quote a response body (metadata can carry credentials).
 */
import { concatBytes } from "../base/bytes.ts";
import type { ProbeContext } from "./types.ts";
import { BodyTooLargeError, MalformedResponseError, wireRequest } from "./wire.ts";

/** Metadata documents are small; anything larger is not a metadata service. */
export const MAX_BODY_BYTES = 1 << 20;

/** "Broken": this provider answered, but not as documented. Message is short, no body. */
export class ProbeError extends Error {
  override name = "ProbeError";
}

/** Nothing usable came back at the transport level: refused, reset, timed out, aborted. */
export class UnreachableError extends Error {
  override name = "UnreachableError";
}

export interface HttpReply {
  status: number;
  headers: Headers;
  /** Whole body as text (not trimmed). */
  text: string;
}

export interface RequestInit {
  method?: "GET" | "PUT";
  headers?: Record<string, string>;
}

/** Reads a body up to `limit` bytes; a larger body is cancelled and rejected. */
export async function readLimited(
  res: Response,
  limit: number,
  what: string,
): Promise<Uint8Array<ArrayBuffer>> {
  if (res.body === null) return new Uint8Array();
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => {});
        throw new ProbeError(`response from ${what} is over ${limit} bytes`);
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  return concatBytes(chunks);
}

/**
 * One request to `ctx.baseUrl + path`, limited to `ctx.requestTimeoutMs`. Transport failures
 * become `UnreachableError`; any HTTP status is returned to the caller to judge.
 */
export async function request(
  ctx: ProbeContext,
  path: string,
  init: RequestInit = {},
): Promise<HttpReply> {
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(ctx.requestTimeoutMs)]);
  try {
    const res = await ctx.fetch(ctx.baseUrl + path, {
      method: init.method ?? "GET",
      headers: init.headers ?? {},
      signal,
      redirect: "manual",
    });
    const bytes = await readLimited(res, MAX_BODY_BYTES, path);
    return { status: res.status, headers: res.headers, text: new TextDecoder().decode(bytes) };
  } catch (err) {
    if (err instanceof ProbeError) throw err;
    // The caller's signal is checked first: its reason may be a timeout too (the provider's).
    const aborted = ctx.signal.aborted;
    const timedOut = !aborted && signal.reason?.name === "TimeoutError";
    if (err instanceof UnreachableError && !timedOut && !aborted) throw err;
    if (timedOut) {
      throw new UnreachableError(`timed out after ${ctx.requestTimeoutMs} ms on ${path}`);
    }
    if (aborted) throw new UnreachableError(`aborted on ${path}`);
    throw new UnreachableError(`connection failed on ${path}`);
  }
}

export const isOk = (status: number): boolean => status >= 200 && status < 300;

/**
 * A value read after the provider is identified: 2xx → cleaned text (null when empty),
 * 404 → null (field not offered), anything else → `ProbeError`.
 */
export async function field(
  ctx: ProbeContext,
  path: string,
  headers: Record<string, string> = {},
): Promise<string | null> {
  const reply = await request(ctx, path, { headers });
  if (isOk(reply.status)) return clean(reply.text);
  if (reply.status === 404) return null;
  throw new ProbeError(`HTTP ${reply.status} from ${path}`);
}

/** Runs the identification step: a transport failure there means "not this cloud". */
export async function identify<T>(step: Promise<T>): Promise<T | undefined> {
  try {
    return await step;
  } catch (err) {
    if (err instanceof UnreachableError) return undefined;
    throw err;
  }
}

/** JSON.parse without leaking the body into the error message. */
export function parseJson(text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ProbeError(`malformed JSON from ${path}`);
  }
}

/** `obj[k1][k2]…` for unknown JSON; `undefined` when any step is not an object. */
export function pick(obj: unknown, ...keys: string[]): unknown {
  let cur = obj;
  for (const k of keys) {
    if (cur === null || typeof cur !== "object" || Array.isArray(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * Identifier-like values only: a catch-all server, an HTML error page or a body with spaces
 * never ends up in the output. `unknown` and empty mean "not told".
 */
const IDENT = /^[A-Za-z0-9][A-Za-z0-9._:@\/+-]{0,127}$/;
export function clean(value: unknown): string | null {
  if (typeof value === "number" && Number.isFinite(value)) value = String(value);
  if (typeof value !== "string") return null;
  const v = value.trim();
  if (!IDENT.test(v) || v.toLowerCase() === "unknown") return null;
  return v;
}

/** `projects/1/zones/us-central1-a` → `us-central1-a`. */
export function lastSegment(v: string): string {
  return v.slice(v.lastIndexOf("/") + 1);
}

/** `us-central1-a` → `us-central1`, `fr-par-1` → `fr-par`; unchanged without `-`. */
export function dropLastDashPart(zone: string): string {
  const i = zone.lastIndexOf("-");
  return i > 0 ? zone.slice(0, i) : zone;
}

/**
 * The `fetch` used outside tests: one origin-form HTTP/1.1 request straight to the address
 * (`wire.ts`), never through `HTTP_PROXY` & co, no redirects followed, body bounded.
 */
export const metadataFetch: typeof fetch = async (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const signal = init?.signal ?? undefined;
  let reply;
  try {
    reply = await wireRequest({
      method: init?.method ?? "GET",
      url,
      headers: Object.fromEntries(new Headers(init?.headers).entries()),
      maxBodyBytes: MAX_BODY_BYTES,
      ...(signal ? { signal } : {}),
    });
  } catch (err) {
    if (err instanceof BodyTooLargeError) {
      throw new ProbeError(`response from ${url.pathname} is over ${MAX_BODY_BYTES} bytes`);
    }
    if (err instanceof MalformedResponseError) {
      throw new UnreachableError(`${err.message} on ${url.pathname}`);
    }
    throw err;
  }
  if (reply.status < 200 || reply.status > 599) {
    throw new UnreachableError(`unexpected HTTP ${reply.status} on ${url.pathname}`);
  }
  const nullBody = [204, 205, 304].includes(reply.status);
  return new Response(nullBody ? null : reply.body, {
    status: reply.status,
    statusText: reply.statusText,
    headers: reply.headers,
  });
};
