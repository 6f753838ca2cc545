/**
 * Fake metadata servers for tests, on 127.0.0.1 only. Handlers may wait on `closing` so a
 * "never answers" route still ends when the test closes the server (leak sanitizers).
 */
import { sleep } from "../../base/time.ts";

export type Handler = (
  req: Request,
  url: URL,
  /** Aborted when the test closes the server. */
  closing: AbortSignal,
) => Response | Promise<Response>;

export interface Fake {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** `METHOD /path?query` of every request received. */
  hits: string[];
  close(): Promise<void>;
}

/** Resolves when `closing` aborts (the server closes). */
export function closed(closing: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (closing.aborted) return resolve();
    closing.addEventListener("abort", () => resolve(), { once: true });
  });
}

export function serve(handler: Handler): Fake {
  const closing = new AbortController();
  const hits: string[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      const url = new URL(req.url);
      hits.push(`${req.method} ${url.pathname}${url.search}`);
      try {
        return await handler(req, url, closing.signal);
      } catch {
        return new Response("fake failed", { status: 599 });
      }
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    hits,
    close: async () => {
      closing.abort();
      await server.shutdown();
    },
  };
}

/** Accepts TCP connections and never writes a byte. */
export function blackhole(): Fake & { firstHitMs: () => number | null } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const hits: string[] = [];
  let first: number | null = null;
  const loop = (async () => {
    try {
      for await (const conn of listener) {
        hits.push("CONNECT");
        first ??= Date.now();
        conns.push(conn);
      }
    } catch {
      // listener closed
    }
  })();
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    hits,
    /** Wall-clock ms of the first connection (when the race began), or null. */
    firstHitMs: () => first,
    close: async () => {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // already closed
        }
      }
      await loop;
    },
  };
}

/** A loopback URL where nothing listens (connection refused). */
export function refusedUrl(): string {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return `http://127.0.0.1:${port}`;
}

export const text = (body: string, status = 200, headers: Record<string, string> = {}) =>
  new Response(body, { status, headers: { "content-type": "text/plain", ...headers } });

export const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body, null, 2), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });

export const notFound: Handler = () => text("Not Found", 404);

/** Same answer for every path. */
export const always = (status: number, body: string): Handler => () => text(body, status);

/** Delays every answer of `inner` by `ms`. */
export const slow = (ms: number, inner: Handler): Handler => async (req, url, closing) => {
  await sleep(ms, closing);
  return inner(req, url, closing);
};

/** Never answers (until the fake is closed). */
export const hang: Handler = async (_req, _url, closing) => {
  await closed(closing);
  return text("closed", 503);
};
