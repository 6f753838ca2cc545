/**
 * A strict, independent HTTP/1.1 server for tests, written on raw sockets (not `Deno.serve`,
 * whose parser accepts absolute-form targets): it answers 400 to an absolute-form request line
 * (`GET http://host/path HTTP/1.1`, what a proxy gets) and to a request without `Host`, like
 * ordinary origin servers do, and hands every other request to a provider `Handler`.
 * Responses go out with `Content-Length`, or chunked when asked.
 */
import type { Handler, Loopback } from "../loopback.ts";

export interface StrictOptions {
  /** Send bodies with `Transfer-Encoding: chunked` (two chunks) instead of `Content-Length`. */
  chunked?: boolean;
  /** Address to listen on; loopback unless a test runs in its own network namespace. */
  hostname?: string;
  port?: number;
}

export interface StrictServer extends Loopback {
  /** Raw request lines and Host/User-Agent headers seen, in order. */
  requests: { line: string; host: string | null; userAgent: string | null }[];
  /** Requests answered 400 for their form. */
  rejected: string[];
}

const enc = new TextEncoder();
const REASONS: Record<number, string> = { 200: "OK", 400: "Bad Request", 404: "Not Found" };

function findHeadEnd(b: Uint8Array): number {
  for (let i = 0; i + 3 < b.length; i++) {
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  }
  return -1;
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  for (let rest = data; rest.length > 0;) rest = rest.subarray(await conn.write(rest));
}

export function strictServe(handler: Handler, o: StrictOptions = {}): StrictServer {
  const listener = Deno.listen({ hostname: o.hostname ?? "127.0.0.1", port: o.port ?? 0 });
  const addr = listener.addr as Deno.NetAddr;
  const closer = new AbortController();
  const conns = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  const hits: string[] = [];
  const requests: StrictServer["requests"] = [];
  const rejected: string[] = [];
  const base = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;

  async function answer(conn: Deno.Conn, res: Response, head: boolean): Promise<void> {
    const body = new Uint8Array(await res.arrayBuffer());
    const lines = [`HTTP/1.1 ${res.status} ${res.statusText || REASONS[res.status] || "Status"}`];
    res.headers.forEach((v, k) => {
      if (!["content-length", "transfer-encoding", "connection"].includes(k)) {
        lines.push(`${k}: ${v}`);
      }
    });
    lines.push("Connection: close");
    if (o.chunked && !head) {
      lines.push("Transfer-Encoding: chunked");
      const half = Math.floor(body.length / 2);
      const parts = [body.subarray(0, half), body.subarray(half)].filter((p) => p.length > 0);
      await writeAll(conn, enc.encode(lines.join("\r\n") + "\r\n\r\n"));
      for (const p of parts) {
        await writeAll(conn, enc.encode(p.length.toString(16) + "\r\n"));
        await writeAll(conn, p);
        await writeAll(conn, enc.encode("\r\n"));
      }
      await writeAll(conn, enc.encode("0\r\n\r\n"));
      return;
    }
    lines.push(`Content-Length: ${body.length}`);
    await writeAll(conn, enc.encode(lines.join("\r\n") + "\r\n\r\n"));
    if (!head) await writeAll(conn, body);
  }

  async function serveConn(conn: Deno.Conn): Promise<void> {
    try {
      let buf = new Uint8Array(0);
      const chunk = new Uint8Array(4096);
      let end = -1;
      while ((end = findHeadEnd(buf)) < 0) {
        const n = await conn.read(chunk);
        if (n === null || buf.length > 64 * 1024) return;
        const next = new Uint8Array(buf.length + n);
        next.set(buf);
        next.set(chunk.subarray(0, n), buf.length);
        buf = next;
      }
      const lines = new TextDecoder().decode(buf.subarray(0, end)).split("\r\n");
      const line = lines[0] ?? "";
      const headers = new Headers();
      for (const l of lines.slice(1)) {
        const i = l.indexOf(":");
        if (i > 0) headers.append(l.slice(0, i), l.slice(i + 1).trim());
      }
      requests.push({
        line,
        host: headers.get("host"),
        userAgent: headers.get("user-agent"),
      });
      const m = /^([A-Z]+) (\S+) HTTP\/1\.1$/.exec(line);
      const bad = (why: string) => {
        rejected.push(`${line} (${why})`);
        return answer(conn, new Response(`Bad Request: ${why}\n`, { status: 400 }), false);
      };
      if (!m) return await bad("malformed request line");
      const [, method, target] = m as unknown as [string, string, string];
      // Origin form only: an origin server is not a proxy.
      if (!target.startsWith("/")) return await bad("absolute-form target");
      const host = headers.get("host");
      if (host === null || host === "") return await bad("missing Host");
      // Bodies are not expected (GET, token PUT with Content-Length: 0).
      const url = new URL(`http://${host}${target}`);
      hits.push(`${method} ${url.pathname}${url.search}`);
      let res: Response;
      try {
        res = await handler(new Request(url, { method, headers }), url, closer.signal);
      } catch {
        res = new Response("fake failed", { status: 500 });
      }
      await answer(conn, res, method === "HEAD");
    } catch {
      // client went away
    } finally {
      conns.delete(conn);
      try {
        conn.close();
      } catch { /* closed */ }
    }
  }

  const loop = (async () => {
    try {
      for await (const conn of listener) {
        conns.add(conn);
        const t = serveConn(conn);
        tasks.add(t);
        t.finally(() => tasks.delete(t));
      }
    } catch {
      // listener closed
    }
  })();

  return {
    url: `http://${base}:${addr.port}`,
    port: addr.port,
    hits,
    requests,
    rejected,
    close: async () => {
      closer.abort();
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await loop;
      await Promise.allSettled([...tasks]);
    },
  };
}
