import { equal, ok } from "node:assert/strict";
import type { Sample } from "../base/sample.ts";
import { LineSink } from "./lines.ts";

Deno.test("LineSink: a line queued while the failing write was in flight does not hang close()", async () => {
  const warnings: string[] = [];
  let release!: () => void;
  const inFlight = new Promise<void>((r) => (release = r));
  const sink = new LineSink({
    name: "file:full",
    compression: "none",
    encoder: { header: "", encode: () => "{}\n" } as never,
    warn: (l) => warnings.push(l),
    output: {
      size: 0,
      write: async () => {
        await inFlight;
        throw new Error("No space left on device (os error 28)");
      },
      close: () => {},
    },
  });
  const sample = {} as Sample;
  sink.write(sample); // the pump starts writing this one…
  sink.write(sample); // …and this one is queued behind it
  release();
  // Before the fix close() spun on the queue of the failed sink in microtasks, so no timer ran
  // and the test process hung (the CLI ignored SIGTERM after a disk filled, on a loaded box).
  const closed = await Promise.race([
    sink.close({ exitCode: 0 }).then(() => true),
    new Promise<false>((r) => setTimeout(() => r(false), 5_000)),
  ]);
  ok(closed, "close() did not return");
  equal(warnings.filter((w) => w.includes("cannot write")).length, 1, warnings.join("\n"));
});
