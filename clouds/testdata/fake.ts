/**
 * Fake metadata servers for tests, on 127.0.0.1 only. Handlers may wait on `closing` so a
 * "never answers" route still ends when the test closes the server (leak sanitizers).
 */

export type Handler = (
  req: Request,
  url: URL,
  closing: Promise<void>,
) => Response | Promise<Response>;

export interface Fake {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** `METHOD /path?query` of every request received. */
  hits: string[];
  close(): Promise<void>;
}

/** Sleeps `ms` or until `closing` resolves, whichever first; clears its timer. */
export function sleepOr(ms: number, closing: Promise<void>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))),
    closing,
  ]).finally(() => clearTimeout(timer));
}

export function serve(handler: Handler): Fake {
  let release!: () => void;
  const closing = new Promise<void>((resolve) => (release = resolve));
  const hits: string[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      const url = new URL(req.url);
      hits.push(`${req.method} ${url.pathname}${url.search}`);
      try {
        return await handler(req, url, closing);
      } catch {
        return new Response("fake failed", { status: 599 });
      }
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    hits,
    close: async () => {
      release();
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
  await sleepOr(ms, closing);
  return inner(req, url, closing);
};

/** Never answers (until the fake is closed). */
export const hang: Handler = async (_req, _url, closing) => {
  await closing;
  return text("closed", 503);
};
