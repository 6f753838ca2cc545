/** The sinks that show a run while it goes: `--listen` (HTTP) and `--live` (terminal). */
import type { SinkContext } from "../sinks/mod.ts";
import type { Sink } from "../sinks/sink.ts";

/** `destinations`: where samples go besides the views (shown by `--live`). */
export async function viewSinks(ctx: SinkContext, destinations: string[]): Promise<Sink[]> {
  const out: Sink[] = [];
  const listen = ctx.config.values.get("listen") as string | undefined;
  if (listen) {
    const { createListenSink } = await import("./mod.ts");
    const sink = createListenSink({ ctx, address: listen });
    out.push(sink);
    destinations = [...destinations, sink.url];
  }
  if (ctx.config.values.get("live") === true) {
    const { createLiveSink } = await import("../live/mod.ts");
    out.push(createLiveSink({ ctx, destinations }));
  }
  return out;
}
