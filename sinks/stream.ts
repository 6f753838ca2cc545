/** stdout / stderr sink: whole lines, written synchronously so lines never interleave. */
import { writeAllSync } from "../core/log.ts";
import type { Sample } from "../core/sample.ts";
import type { Encoder } from "../formats/mod.ts";
import type { Sink } from "./sink.ts";

export function createStreamSink(which: "stdout" | "stderr", encoder: Encoder): Sink {
  const stream = which === "stdout" ? Deno.stdout : Deno.stderr;
  let started = false;
  let broken = false;
  return {
    name: which,
    write(sample: Sample) {
      if (broken) return;
      try {
        // Header and row in one write so a reader never sees half of either.
        writeAllSync(stream, (started ? "" : encoder.header) + encoder.encode(sample));
        started = true;
      } catch {
        broken = true; // EPIPE: the reader went away; other sinks go on.
      }
    },
    close: () => Promise.resolve(),
  };
}
