/**
 * What the remote sinks share around the delivery engine: the dependencies the registry hands
 * them, one batched sink over a transport, and the line that says what `keep()` left.
 */
import type { Sample } from "../base/sample.ts";
import { Delivery, type KeepReport, type Transport, type Tuning } from "./delivery.ts";
import { resolveClose, type Sink } from "./sink.ts";
import { type JobMeta, newJobId, type SpoolFs, SpoolJob } from "./spool.ts";

/** One line about what `keep()` did, or null when everything was delivered. */
export function keepLine(name: string, r: KeepReport): string | null {
  const parts: string[] = [];
  if (r.samples > 0 || r.batches > 0) { // a batch of unknown size (flush) is still left
    parts.push(
      `${r.samples} samples in ${r.batches} batches not delivered; kept in "${r.dir}" (send them with \`resource-tracker flush\`)`,
    );
  }
  if (r.lost > 0) parts.push(`${r.lost} samples lost (${r.reason ?? "spool unavailable"})`);
  return parts.length > 0 ? `${name}: ${parts.join("; ")}` : null;
}

/** What remote sinks get from the registry (everything injectable for tests). */
export interface RemoteDeps {
  env: (name: string) => string | undefined;
  /** Already redacting. */
  warn: (line: string) => void;
  fetch: typeof fetch;
  tuning: Tuning;
  /** Spool root directory; null disables spooling. */
  spoolRoot: string | null;
  spoolFs?: SpoolFs;
}

/** A batched remote sink: one Delivery over `transport`, spooling under `kind` when enabled. */
export function batchedSink(
  kind: string,
  meta: JobMeta,
  transport: Transport,
  encoder: { header: string; encode(s: Sample): string },
  deps: RemoteDeps,
): Sink {
  const spool = deps.spoolRoot
    ? new SpoolJob(deps.spoolRoot, newJobId(kind), meta, deps.spoolFs)
    : null;
  const delivery = new Delivery({
    transport,
    header: encoder.header,
    tuning: deps.tuning,
    spool,
    warn: deps.warn,
  });
  return remoteSink(transport.name, delivery, (s) => encoder.encode(s), deps.warn);
}

/** A sink around one Delivery: encode on write, drain and keep on close. */
export function remoteSink(
  name: string,
  delivery: Delivery,
  encode: (s: Sample) => string,
  warn: (line: string) => void,
): Sink {
  let closed = false;
  return {
    name,
    write(sample) {
      if (!closed) delivery.push(encode(sample));
    },
    async close(info) {
      if (closed) return;
      closed = true;
      const { deadline } = resolveClose(info);
      await delivery.drain(deadline, info?.signal);
      await delivery.stop();
      const line = keepLine(name, await delivery.keep());
      if (line) warn(line);
    },
  };
}
