/** A local file sink: 0600, no symlinks, one whole line per write, flushed as written. */
import { writeAllSync } from "../core/log.ts";
import type { Sample } from "../core/sample.ts";
import type { Encoder } from "../formats/mod.ts";
import { openPrivateFile } from "./safe_open.ts";
import type { Sink } from "./sink.ts";

export function createFileSink(path: string, encoder: Encoder, warn: (l: string) => void): Sink {
  const file = openPrivateFile(path);
  let failed = false;
  if (encoder.header) writeAllSync(file, encoder.header);
  return {
    name: `file:${path}`,
    write(sample: Sample) {
      if (failed) return;
      try {
        writeAllSync(file, encoder.encode(sample));
      } catch (err) {
        failed = true;
        warn(`cannot write to "${path}": ${err instanceof Error ? err.message : err}`);
      }
    },
    close() {
      try {
        file.close();
      } catch { /* already closed */ }
      return Promise.resolve();
    },
  };
}
