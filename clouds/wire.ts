/**
 * The metadata transport: one HTTP/1.1 request over a plain `Deno.connect` socket.
 *
 * Why not `fetch` or `node:http`: `fetch` reads `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY` from the
 * environment (a proxy must never see metadata tokens, and cannot reach the local link anyway),
 * and the only way to bypass it, a client whose "proxy" is the target itself, sends
 * absolute-form request lines (`GET http://169.254.169.254/… HTTP/1.1`) that ordinary servers
 * answer with 404. `node:http` would do, but loading Deno's Node layer costs 15–20 ms and its
 * behaviour (agents, keep-alive, proxy handling) changes between releases. A request to a
 * metadata service is small and simple, so this module writes it by hand: origin form
 * (`GET /path HTTP/1.1` + `Host`), `Connection: close`, our `User-Agent`, no proxy, no
 * redirect following, header and body sizes bounded, and the socket closed when the caller's
 * signal aborts.
 */
import { concatBytes } from "../base/bytes.ts";
import { USER_AGENT } from "../base/user_agent.ts";

export const MAX_HEADER_BYTES = 64 * 1024;

export interface WireRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  signal?: AbortSignal;
  /** Largest body accepted; a larger one rejects with `BodyTooLargeError`. */
  maxBodyBytes: number;
}

export interface WireResponse {
  status: number;
  statusText: string;
  headers: Headers;
  body: Uint8Array<ArrayBuffer>;
}

export class BodyTooLargeError extends Error {
  override name = "BodyTooLargeError";
}

/** The server's answer is not HTTP/1.x (or not one we can read). */
export class MalformedResponseError extends Error {
  override name = "MalformedResponseError";
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const enc = new TextEncoder();

/** The request head in origin form. Header names and values are checked (no CR/LF smuggling). */
export function requestHead(method: string, url: URL, headers: Record<string, string>): string {
  if (!TOKEN.test(method)) throw new TypeError(`invalid method ${JSON.stringify(method)}`);
  const lines = [
    `${method} ${url.pathname || "/"}${url.search} HTTP/1.1`,
    `Host: ${url.host}`,
    `User-Agent: ${USER_AGENT}`,
    "Accept: */*",
    "Connection: close",
  ];
  const skip = new Set(["host", "connection", "content-length", "transfer-encoding"]);
  for (const [name, value] of Object.entries(headers)) {
    if (!TOKEN.test(name) || /[\r\n\0]/.test(value)) {
      throw new TypeError(`invalid header ${JSON.stringify(name)}`);
    }
    if (skip.has(name.toLowerCase())) continue;
    if (name.toLowerCase() === "user-agent" || name.toLowerCase() === "accept") {
      const i = lines.findIndex((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
      lines[i] = `${name}: ${value}`;
      continue;
    }
    lines.push(`${name}: ${value}`);
  }
  // A PUT (the IMDSv2 token) has an empty body: say so, or some servers wait for one.
  if (method !== "GET" && method !== "HEAD") lines.push("Content-Length: 0");
  return lines.join("\r\n") + "\r\n\r\n";
}

/** Reads from a connection into a growing buffer, refusing to grow past a limit. */
class Reader {
  buf = new Uint8Array(0);
  eof = false;
  #chunk = new Uint8Array(16 * 1024);
  constructor(private readonly conn: Deno.Conn) {}

  /** Reads once more; returns false at end of stream. */
  async more(limit: number, what: () => Error): Promise<boolean> {
    if (this.eof) return false;
    const n = await this.conn.read(this.#chunk);
    if (n === null) {
      this.eof = true;
      return false;
    }
    if (this.buf.length + n > limit) throw what();
    const next = new Uint8Array(this.buf.length + n);
    next.set(this.buf);
    next.set(this.#chunk.subarray(0, n), this.buf.length);
    this.buf = next;
    return true;
  }

  take(n: number): Uint8Array {
    const out = this.buf.slice(0, n);
    this.buf = this.buf.slice(n);
    return out;
  }
}

function indexOfCrlfCrlf(b: Uint8Array, from = 0): number {
  for (let i = from; i + 3 < b.length; i++) {
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  }
  return -1;
}

function indexOfCrlf(b: Uint8Array): number {
  for (let i = 0; i + 1 < b.length; i++) if (b[i] === 13 && b[i + 1] === 10) return i;
  return -1;
}

interface Head {
  status: number;
  statusText: string;
  headers: Headers;
}

function parseHead(text: string): Head {
  const lines = text.split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0] ?? "");
  if (!m) throw new MalformedResponseError("not an HTTP/1.x response");
  const headers = new Headers();
  for (const line of lines.slice(1)) {
    const i = line.indexOf(":");
    const name = line.slice(0, i);
    if (i <= 0 || !TOKEN.test(name)) throw new MalformedResponseError("malformed header line");
    try {
      headers.append(name, line.slice(i + 1).trim());
    } catch {
      throw new MalformedResponseError("malformed header value");
    }
  }
  return { status: Number(m[1]), statusText: m[2] ?? "", headers };
}

async function readHead(r: Reader): Promise<Head> {
  const tooBig = () => new MalformedResponseError(`response head over ${MAX_HEADER_BYTES} bytes`);
  for (;;) {
    let end = indexOfCrlfCrlf(r.buf);
    while (end < 0) {
      if (!await r.more(MAX_HEADER_BYTES, tooBig)) {
        throw new MalformedResponseError("connection closed before the response head ended");
      }
      end = indexOfCrlfCrlf(r.buf);
    }
    const head = parseHead(new TextDecoder("latin1").decode(r.take(end + 4).subarray(0, end)));
    // Interim answers (100 Continue, 103 Early Hints) precede the real one.
    if (head.status >= 100 && head.status < 200 && head.status !== 101) continue;
    return head;
  }
}

async function readChunked(r: Reader, limit: number, tooBig: () => Error): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  // A chunk-size line is short; the body limit plus slack bounds what is buffered.
  const bufLimit = limit + MAX_HEADER_BYTES;
  for (;;) {
    let eol = indexOfCrlf(r.buf);
    while (eol < 0) {
      if (!await r.more(bufLimit, tooBig)) throw new MalformedResponseError("truncated chunk");
      eol = indexOfCrlf(r.buf);
    }
    const line = new TextDecoder().decode(r.take(eol + 2).subarray(0, eol));
    const n = parseInt(line.split(";")[0]!.trim(), 16);
    if (!Number.isFinite(n) || n < 0) throw new MalformedResponseError("bad chunk size");
    if (n === 0) return concatBytes(parts); // trailers, if any, are ignored
    if (size + n > limit) throw tooBig();
    while (r.buf.length < n + 2) {
      if (!await r.more(bufLimit, tooBig)) throw new MalformedResponseError("truncated chunk");
    }
    parts.push(r.take(n));
    r.take(2);
    size += n;
  }
}

/** Sends one request and reads the whole answer. Rejects on abort, transport errors, limits. */
export async function wireRequest(req: WireRequest): Promise<WireResponse> {
  const { url, signal } = req;
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`unsupported scheme ${url.protocol}`);
  }
  signal?.throwIfAborted();
  const head = enc.encode(requestHead(req.method, url, req.headers));
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port);
  let conn: Deno.Conn | null = null;
  let aborted = false;
  const onAbort = () => {
    aborted = true;
    try {
      conn?.close();
    } catch { /* already closed */ }
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const opened = url.protocol === "https:"
      ? Deno.connectTls({ hostname, port })
      : Deno.connect({ hostname, port, transport: "tcp" });
    const c = await opened.catch((err) => {
      throw aborted ? signal!.reason : err;
    });
    // Aborted while connecting: close the socket that just opened.
    if (aborted) {
      c.close();
      throw signal!.reason;
    }
    conn = c;
    for (let rest: Uint8Array = head; rest.length > 0;) {
      rest = rest.subarray(await conn.write(rest));
    }
    const r = new Reader(conn);
    const { status, statusText, headers } = await readHead(r);
    const limit = req.maxBodyBytes;
    const tooBig = () => new BodyTooLargeError(`response body over ${limit} bytes`);
    let body: Uint8Array<ArrayBuffer>;
    const te = headers.get("transfer-encoding");
    const cl = headers.get("content-length");
    if (req.method === "HEAD" || status === 204 || status === 304) {
      body = new Uint8Array(0);
    } else if (te !== null && /(^|,)\s*chunked\s*$/i.test(te)) {
      body = await readChunked(r, limit, tooBig) as Uint8Array<ArrayBuffer>;
    } else if (cl !== null) {
      if (!/^\d+$/.test(cl.trim())) throw new MalformedResponseError("bad Content-Length");
      const n = Number(cl.trim());
      if (n > limit) throw tooBig();
      while (r.buf.length < n) {
        if (!await r.more(n, tooBig)) throw new MalformedResponseError("truncated body");
      }
      body = r.take(n) as Uint8Array<ArrayBuffer>;
    } else {
      while (await r.more(limit, tooBig)) { /* read to end of stream */ }
      body = r.take(r.buf.length) as Uint8Array<ArrayBuffer>;
    }
    return { status, statusText, headers, body };
  } catch (err) {
    if (aborted) throw signal!.reason;
    throw err;
  } finally {
    // Always, even after a `once` dispatch: Deno keeps an `AbortSignal.timeout` behind `signal`
    // (clouds/http.ts, clouds/race.ts) holding the process open while a listener is registered.
    signal?.removeEventListener("abort", onAbort);
    if (!aborted) {
      try {
        conn?.close();
      } catch { /* already closed */ }
    }
  }
}
