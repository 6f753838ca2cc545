/**
 * `--listen [HOST:]PORT`: an HTTP server (hono on Deno.serve) fed like a sink. It binds loopback
 * unless a host is given; beyond loopback a bearer token from $TRACKER_LISTEN_TOKEN is required
 * (when the variable is set it is required on loopback too). The server lives until the run
 * closes its sinks.
 */
import denoJson from "../deno.json" with { type: "json" };
import { UsageError } from "../core/errors.ts";
import { writeAllSync } from "../core/log.ts";
import { identityLabels } from "../metrics/model.ts";
import type { Sink } from "../sinks/sink.ts";
import type { SinkContext } from "../sinks/mod.ts";
import { createHandler } from "./app.ts";
import { Hub } from "./hub.ts";
import { LISTEN_TOKEN_ENV, parseListen } from "./options.ts";

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
  const hub = new Hub();
  const run = ctx.run;
  const handler = createHandler({
    hub,
    token,
    labels: identityLabels(run),
    version: denoJson.version,
    intervalSecs: ctx.config.interval,
    run: async () => ({
      metadata: run.metadata,
      tags: run.tags,
      command: run.command,
      interval_secs: ctx.config.interval,
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
  return {
    name: `listen ${url}`,
    url,
    write(sample) {
      if (!closed) hub.add(sample);
    },
    async close() {
      if (closed) return;
      closed = true;
      hub.closeAll();
      shutdown.abort();
      await server.finished;
    },
  };
}
