/**
 * The one loopback server of the tests: every fake HTTP service listens through `serve`, on
 * 127.0.0.1 only. Handlers get a `closed` signal that aborts when the test closes the server,
 * so a "never answers" route still ends (leak sanitizers) and `sleep(ms, closed)` cuts short.
 */

export type Handler = (
  req: Request,
  url: URL,
  closed: AbortSignal,
) => Response | Promise<Response>;

export interface Loopback {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  port: number;
  /** `METHOD /path?query` of every request received. */
  hits: string[];
  close(): Promise<void>;
}

/** A server on a free loopback port (or `port`); a handler that throws answers 500. */
export function serve(handler: Handler, port = 0): Loopback {
  const closer = new AbortController();
  const hits: string[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port, onListen() {} },
    async (req) => {
      const url = new URL(req.url);
      hits.push(`${req.method} ${url.pathname}${url.search}`);
      try {
        return await handler(req, url, closer.signal);
      } catch {
        return new Response("fake failed", { status: 500 });
      }
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    port: server.addr.port,
    hits,
    close: async () => {
      closer.abort();
      await server.shutdown();
    },
  };
}

/** A base for fakes that are one loopback server answering through `handle` (500 if it throws). */
export abstract class LoopbackFake {
  readonly #srv: Loopback;

  constructor(port = 0) {
    this.#srv = serve(
      (req) => this.handle(req).catch(() => new Response(null, { status: 500 })),
      port,
    );
  }

  protected abstract handle(req: Request): Promise<Response>;

  get url(): string {
    return this.#srv.url;
  }

  get port(): number {
    return this.#srv.port;
  }

  close(): Promise<void> {
    return this.#srv.close();
  }
}

/** Resolves when `signal` aborts (at once if it already has). */
export function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

/** A loopback port with nothing listening (connection refused). */
export function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** A loopback URL where nothing listens (connection refused). */
export function refusedUrl(): string {
  return `http://127.0.0.1:${closedPort()}`;
}

/** Accepts TCP connections and never writes a byte. */
export function blackhole(): Loopback & { firstHitMs: () => number | null } {
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
  const port = (listener.addr as Deno.NetAddr).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
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
