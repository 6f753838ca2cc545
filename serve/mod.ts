/**
 * `--listen [HOST:]PORT`: an HTTP server (hono on Deno.serve) fed like a sink. It binds loopback
 * unless a host is given; beyond loopback a bearer token from $TRACKER_LISTEN_TOKEN is required
 * (when the variable is set it is required on loopback too). The server lives until the run
 * closes its sinks.
 */
import denoJson from "../deno.json" with { type: "json" };
import { UsageError } from "../base/errors.ts";
import { writeAllSync } from "../base/log.ts";
import { identityLabels } from "../metrics/model.ts";
import type { Sink } from "../sinks/sink.ts";
import type { SinkContext } from "../sinks/mod.ts";
import { createHandler } from "./app.ts";
import { Hub } from "./hub.ts";
import { LISTEN_TOKEN_ENV, parseListen } from "./options.ts";

/**
 * JIT warm-up of `/metrics`, as core/warmup.ts does for sampling: scraped once a second, the
 * exposition code would run as cold bytecode for many minutes (a lone scrape then costs about
 * three times a warm one). A few hundred throwaway scrapes through the handler, in slices that
 * yield to the event loop, compile it now for ~50 ms of CPU once.
 */
async function warmScrapes(
  handler: (req: Request) => Response | Promise<Response>,
  token: string | null,
  stop: AbortSignal,
  rounds = 300,
): Promise<void> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  let slice = performance.now();
  for (let i = 0; i < rounds && !stop.aborted; i++) {
    try {
      await (await handler(new Request("http://127.0.0.1/metrics", { headers }))).text();
    } catch {
      return;
    }
    if (performance.now() - slice >= 4) {
      await new Promise((r) => setTimeout(r, 0));
      slice = performance.now();
    }
  }
}

export interface ListenSinkOptions {
  ctx: SinkContext;
  address: string;
  /** Where the "listening on" line goes (default: stderr). */
  info?: (line: string) => void;
}

export function createListenSink(o: ListenSinkOptions): Sink & { url: string } {
  const { ctx } = o;
  const addr = parseListen(o.address);
  const token = ctx.env(LISTEN_TOKEN_ENV)?.trim() || null;
  if (!addr.loopback && !token) {
    throw new UsageError(
      `--listen ${o.address}: listening beyond loopback needs a bearer token in $${LISTEN_TOKEN_ENV}`,
    );
  }
  const hub = new Hub(ctx.settings.intervalSecs);
  const run = ctx.run;
  const handler = createHandler({
    hub,
    token,
    labels: identityLabels(run),
    version: denoJson.version,
    intervalSecs: ctx.settings.intervalSecs,
    run: async () => ({
      metadata: run.metadata,
      tags: run.tags,
      command: run.command,
      interval_secs: ctx.settings.intervalSecs,
      started_ms: hub.startedMs,
      version: denoJson.version,
      host: await run.host(),
      cloud: await run.cloud(0),
    }),
  });
  const shutdown = new AbortController();
  let server: Deno.HttpServer;
  try {
    server = Deno.serve({
      hostname: addr.hostname,
      port: addr.port,
      signal: shutdown.signal,
      onListen: () => {},
      // A broken connection is the client's business, never the tracker's.
      onError: () => new Response("bad request\n", { status: 400 }),
    }, handler);
  } catch (err) {
    const why = err instanceof Deno.errors.AddrInUse
      ? "address already in use"
      : err instanceof Error
      ? err.message.split("\n")[0]
      : String(err);
    throw new UsageError(`--listen ${o.address}: cannot listen (${why})`);
  }
  const local = server.addr as Deno.NetAddr;
  const host = local.hostname.includes(":") ? `[${local.hostname}]` : local.hostname;
  const url = `http://${host}:${local.port}/`;
  (o.info ?? ((l) => writeAllSync(Deno.stderr, l + "\n")))(
    `resource-tracker: serving ${url} (/metrics, /api/samples, /api/summary, /healthz)`,
  );
  let closed = false;
  let warming: Promise<void> | null = null;
  return {
    name: `listen ${url}`,
    url,
    write(sample) {
      if (closed) return;
      hub.add(sample);
      // Once there is something to expose: compile the scrape path now (see warmScrapes).
      warming ??= warmScrapes(handler, token, shutdown.signal);
    },
    async close() {
      if (closed) return;
      closed = true;
      shutdown.abort();
      await warming;
      hub.closeAll();
      await server.finished;
    },
  };
}
