/** One set of sinks that looks like one: each sample to every sink, one shared close deadline. */
import { errorText } from "../base/errors.ts";
import type { Sample } from "../base/sample.ts";
import type { Sink } from "./sink.ts";
import { settlesWithin } from "../base/time.ts";

export interface ExitInfo {
  exitCode: number;
  /** Aborted when a signal arrives during the flush: stop waiting, keep the rest. */
  signal?: AbortSignal;
}

export interface SinkSet {
  /** Hands the sample to every sink; returns at once. */
  write(sample: Sample): void;
  /** Delivers within the flush timeout, keeps the rest in the spool and says where. */
  close(exit: ExitInfo): Promise<void>;
}

/** Hands each sample to every sink; one sink that throws is reported once and dropped. */
export function fanOut(sinks: Sink[], flushTimeoutMs: number, warn: (l: string) => void): SinkSet {
  let live = [...sinks];
  return {
    write(sample) {
      for (const s of live) {
        try {
          s.write(sample);
        } catch (err) {
          warn(`${s.name}: ${errorText(err)}; output stopped`);
          live = live.filter((x) => x !== s);
        }
      }
    },
    async close(exit) {
      const deadline = Date.now() + flushTimeoutMs;
      // A sink stuck on a write no one reads (a full stderr pipe) must not hold up the exit:
      // past the deadline (and a second of grace) it is left behind.
      await settlesWithin(
        Promise.all(
          sinks.map((s) =>
            s.close({ ...exit, deadline }).catch((err) => warn(`${s.name}: ${errorText(err)}`))
          ),
        ),
        flushTimeoutMs + 1_000,
      );
    },
  };
}
