/**
 * The HTTP routes (hono): `/metrics`, `/api/samples`, `/api/summary`, `/api/events` (SSE),
 * `/healthz` and the dashboard at `/`. Every handler only reads the hub: a bad or slow client
 * gets a 4xx or is dropped, and sampling never waits for it.
 */
import { Hono } from "hono";
import type { Context, Next } from "hono";
import {
  exposition,
  OPENMETRICS_TYPE,
  TEXT_TYPE,
  wantsOpenMetrics,
} from "../metrics/prometheus.ts";
import type { Hub, Subscriber } from "./hub.ts";

export interface AppOptions {
  hub: Hub;
  /** Bearer token every request must carry, or null (loopback without a token). */
  token: string | null;
  /** Identity labels of every series. */
  labels: Record<string, string>;
  version: string;
  intervalSecs: number;
  /** Run metadata, tags, command, host and cloud facts for the dashboard and `/api/summary`. */
  run: () => Promise<Record<string, unknown>>;
  /** Requests handled at once; past it 503. */
  maxInFlight?: number;
  /** Live (SSE) clients at once; past it 503. */
  maxStreams?: number;
}

const enc = new TextEncoder();

/** Constant-time comparison, so a token cannot be guessed byte by byte from timings. */
function sameSecret(a: string, b: string): boolean {
  const x = enc.encode(a), y = enc.encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** Bearer token, or HTTP Basic with the token as password (what a browser can send). */
function presented(header: string | undefined): string | null {
  if (!header) return null;
  const bearer = /^Bearer\s+(.+)$/i.exec(header);
  if (bearer) return bearer[1]!.trim();
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
  if (!basic) return null;
  try {
    const text = atob(basic[1]!);
    return text.slice(text.indexOf(":") + 1);
  } catch {
    return null;
  }
}

/** The bytes of `/metrics` and their content type, for the request's `Accept`. */
function scrape(o: AppOptions, accept: string | null | undefined): [string, string] {
  const om = wantsOpenMetrics(accept);
  const body = exposition(o.hub.frame, {
    openMetrics: om,
    labels: o.labels,
    info: { version: o.version },
  });
  return [body, om ? OPENMETRICS_TYPE : TEXT_TYPE];
}

const METRICS_PATH = /^[a-z]+:\/\/[^/]+\/metrics(\?.*)?$/;

/**
 * The server's handler: `GET /metrics` is answered here directly (it is what is called every
 * few seconds forever, and the router costs about as much again as the scrape itself); every
 * other request goes through the hono app, which applies the same token check.
 */
export function createHandler(o: AppOptions): (req: Request) => Response | Promise<Response> {
  const app = createApp(o);
  return (req) => {
    if (req.method !== "GET" || !METRICS_PATH.test(req.url)) return app.fetch(req);
    if (o.token !== null) {
      const got = presented(req.headers.get("authorization") ?? undefined);
      if (got === null || !sameSecret(got, o.token)) return app.fetch(req); // the 401 path
    }
    const [body, type] = scrape(o, req.headers.get("accept"));
    return new Response(body, {
      headers: { "content-type": type, "cache-control": "no-store" },
    });
  };
}

export function createApp(o: AppOptions): Hono {
  const app = new Hono();
  const maxInFlight = o.maxInFlight ?? 16;
  const maxStreams = o.maxStreams ?? 8;
  let inFlight = 0;
  let dashboard: Promise<string> | null = null;

  app.use("*", async (c: Context, next: Next) => {
    if (inFlight >= maxInFlight) return c.text("too many requests at once\n", 503);
    if (o.token !== null) {
      const got = presented(c.req.header("authorization"));
      if (got === null || !sameSecret(got, o.token)) {
        c.header("WWW-Authenticate", 'Basic realm="resource-tracker", charset="UTF-8"');
        return c.text("unauthorized\n", 401);
      }
    }
    inFlight++;
    try {
      await next();
    } finally {
      inFlight--;
    }
    c.header("Cache-Control", "no-store");
    c.header("X-Content-Type-Options", "nosniff");
  });

  app.get("/healthz", (c) => {
    const age = o.hub.lastMs === null ? null : (Date.now() - o.hub.lastMs) / 1000;
    // Stale after three missed intervals (plus slack): sampling is stuck.
    const stale = age !== null && age > 3 * o.intervalSecs + 5;
    return c.json({
      status: stale ? "stale" : "ok",
      samples: o.hub.count,
      last_sample_age_secs: age,
    }, stale ? 503 : 200);
  });

  app.get("/metrics", (c) => {
    const [body, type] = scrape(o, c.req.header("accept"));
    return c.body(body, 200, { "Content-Type": type });
  });

  app.get("/api/samples", (c) => {
    const since = c.req.query("since");
    const limit = c.req.query("limit");
    let sinceMs: number | null = null;
    if (since !== undefined) {
      sinceMs = Number(since);
      if (since.trim() === "" || !Number.isFinite(sinceMs)) {
        return c.json({ error: "since: expected Unix milliseconds" }, 400);
      }
    }
    let n = 1000;
    if (limit !== undefined) {
      n = Number(limit);
      if (!Number.isInteger(n) || n < 1 || n > 1000) {
        return c.json({ error: "limit: expected a whole number 1-1000" }, 400);
      }
    }
    return c.json(o.hub.since(sinceMs, n));
  });

  app.get("/api/summary", async (c) => {
    const s = o.hub.summary.build({
      command: null,
      trackedPid: null,
      exitCode: null,
      end: "stopped",
      durationSecs: (Date.now() - o.hub.startedMs) / 1000,
      cloud: null,
    });
    // The run goes on: what only its end can say is left out.
    const { command: _c, tracked_pid: _p, exit_code: _e, end: _end, cloud: _cl, ...running } = s;
    return c.json({ run: await o.run(), summary: running });
  });

  app.get("/api/events", (c) => {
    if (o.hub.subscribers >= maxStreams) return c.text("too many live clients\n", 503);
    let sub: Subscriber | null = null;
    let beat: ReturnType<typeof setInterval> | undefined;
    const stream = new ReadableStream<Uint8Array>({
      start(ctl) {
        sub = {
          push(json) {
            // A client that does not read: about 1 MiB backlog, then it is dropped.
            if ((ctl.desiredSize ?? 0) <= 0) return false;
            ctl.enqueue(enc.encode(`event: sample\ndata: ${json}\n\n`));
            return true;
          },
          close() {
            clearInterval(beat);
            try {
              ctl.close();
            } catch { /* already closed */ }
          },
        };
        ctl.enqueue(enc.encode(`retry: 2000\n: connected\n\n`));
        beat = setInterval(() => {
          if ((ctl.desiredSize ?? 0) > 0) ctl.enqueue(enc.encode(": keep-alive\n\n"));
        }, 15_000);
        o.hub.subscribe(sub);
      },
      cancel() {
        clearInterval(beat);
        if (sub) o.hub.unsubscribe(sub);
      },
    }, new ByteLengthQueuingStrategy({ highWaterMark: 1 << 20 }));
    return new Response(stream, {
      headers: {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-store",
        "X-Accel-Buffering": "no",
      },
    });
  });

  app.get("/", async (c) => {
    dashboard ??= import("./dashboard.ts").then((m) => m.dashboardHtml());
    c.header(
      "Content-Security-Policy",
      "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:",
    );
    return c.html(await dashboard);
  });

  app.notFound((c) => c.text("not found\n", 404));
  app.onError((_err, c) => c.text("internal error\n", 500));
  return app;
}
