/**
 * The sinks that show a run while it goes: `--listen` (HTTP) and `--live` (terminal). The engine
 * hands this to `createSinks` as `ctx.views`, so sinks/ never imports serve/ or live/
 * (docs/ARCHITECTURE.md "Layers").
 */
import type { SinkContext } from "../sinks/mod.ts";
import type { Sink } from "../sinks/sink.ts";

/** `destinations`: where samples go besides the views (shown by `--live`). */
export async function viewSinks(ctx: SinkContext, destinations: string[]): Promise<Sink[]> {
  const out: Sink[] = [];
  const { listen, live } = ctx.settings;
  if (listen) {
    const { createListenSink } = await import("../serve/mod.ts");
    const sink = createListenSink({ ctx, address: listen });
    out.push(sink);
    destinations = [...destinations, sink.url];
  }
  if (live) {
    const { createLiveSink } = await import("../live/mod.ts");
    out.push(createLiveSink({ ctx, destinations }));
  }
  return out;
}
