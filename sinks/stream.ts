/** stdout / stderr sink: whole lines, in order, written asynchronously so a slow reader never
 * holds up sampling; a reader that went away (EPIPE) only stops this sink. */
import { stderrWrites } from "../base/log.ts";
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
  // While this sink writes to the real stderr, diagnostics queue behind it (base/log.ts):
  // stderr may be a pipe no one reads, and a blocking write would freeze the tracker.
  const counted = which === "stderr" && stream === Deno.stderr;
  return new LineSink({
    name: which,
    encoder,
    compression: "none",
    warn: (l) => {
      // A closed pipe is the reader's choice, not worth a warning.
      if (!/broken pipe|EPIPE/i.test(l)) warn(l);
    },
    output: {
      size: 0,
      async write(chunk) {
        let rest = chunk;
        if (counted) stderrWrites.pending++;
        try {
          while (rest.length > 0) rest = rest.subarray(await stream.write(rest));
        } finally {
          if (counted) stderrWrites.pending--;
        }
      },
      close() {},
    },
  });
}
