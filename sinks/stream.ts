/** stdout / stderr sink: whole lines, in order, written asynchronously so a slow reader never
 * holds up sampling; a reader that went away (EPIPE) only stops this sink. */
import type { Encoder } from "../formats/mod.ts";
import { LineSink } from "./lines.ts";
import type { Sink } from "./sink.ts";

export interface Writable {
  write(p: Uint8Array): Promise<number>;
}

export function createStreamSink(
  which: "stdout" | "stderr",
  encoder: Encoder,
  warn: (line: string) => void = () => {},
  stream: Writable = which === "stdout" ? Deno.stdout : Deno.stderr,
): Sink {
  // This sink's own trouble on the real stderr ("output is stuck") is reported on the same
  // stream, queued, never with a blocking write: stderr may be the pipe no one reads, and a
  // synchronous write there would freeze the tracker, signals and exit included.
  const say = which === "stderr" && stream === Deno.stderr
    ? (l: string) => void stream.write(new TextEncoder().encode(`warn: ${l}\n`)).catch(() => {})
    : warn;
  return new LineSink({
    name: which,
    encoder,
    compression: "none",
    warn: (l) => {
      // A closed pipe is the reader's choice, not worth a warning.
      if (!/broken pipe|EPIPE/i.test(l)) say(l);
    },
    output: {
      size: 0,
      async write(chunk) {
        let rest = chunk;
        while (rest.length > 0) rest = rest.subarray(await stream.write(rest));
      },
      close() {},
    },
  });
}
