/**
 * `resource-tracker flush`: delivers what earlier runs left in the spool, job by job, in
 * sequence order with the same keys and numbers they were cut with (so a batch that did reach
 * its target before is overwritten, not duplicated). Credentials come from the caller's
 * environment and options now, never from the spool (see spool.ts for what is trusted);
 * Sentinel runs get fresh upload credentials and are then finished. Each job is locked while
 * it is sent, so two `flush` runs never send one batch twice. Whatever is left is named, and
 * the exit code is 1.
 */
import { errorText } from "../base/errors.ts";
import { CSV_HEADER } from "../formats/csv.ts";
import { Delivery, keepLine, type RemoteDeps, type Transport } from "./delivery.ts";
import type { Redactor } from "./redact.ts";
import { SPOOLED, spoolKind } from "./registry.ts";
import type { ResumeDeps } from "./resume.ts";
import { type FoundJob, scanSpool, type SpoolFs, type SpoolScan } from "./spool.ts";

export interface FlushOptions extends ResumeDeps {
  root: string;
  deps: RemoteDeps;
  redactor: Redactor;
  fs: SpoolFs;
}

export async function flushSpool(o: FlushOptions): Promise<number> {
  let scan: SpoolScan;
  try {
    scan = await scanSpool(o.root, SPOOLED, o.fs);
  } catch (err) {
    o.deps.warn(`cannot use spool "${o.root}": ${errorText(err)}`);
    return 1;
  }
  for (const l of scan.left) {
    o.deps.warn(`${l.id}: ${l.problem}; ${l.batches} batches left in "${l.dir}"`);
  }
  if (scan.jobs.length === 0 && scan.left.length === 0) {
    o.info(`nothing to flush in "${o.root}"`);
    return 0;
  }
  let left = scan.left.length;
  for (const found of scan.jobs) {
    try {
      if (!await flushJob(found, o)) left++;
    } catch (err) {
      left++;
      o.deps.warn(`${found.job.id}: ${errorText(err)}`);
    } finally {
      await found.job.release(true); // no-op when delivered (the job is gone)
    }
  }
  if (left > 0) o.deps.warn(`${left} spool jobs left in "${o.root}"`);
  return left === 0 ? 0 : 1;
}

/**
 * Checks a batch before it is sent: a gzip body (bounded when inflated) holding what its job
 * says (CSV with our header, or JSON objects, one per line). Garbage is left, never uploaded.
 */
function validating(inner: Transport, csv: boolean): Transport {
  return {
    name: inner.name,
    async send(seq, body, signal) {
      const { gunzipSync } = await import("node:zlib");
      let text: string;
      try {
        text = new TextDecoder("utf-8", { fatal: true }).decode(
          gunzipSync(body, { maxOutputLength: 256 << 20 }),
        );
      } catch {
        return { ok: false, permanent: true, reason: `batch ${seq} is not a valid gzip body` };
      }
      const lines = text.split("\n").filter((l) => l !== "");
      const ok = csv ? text.startsWith(CSV_HEADER) : lines.every((l) => {
        try {
          const v = JSON.parse(l);
          return v !== null && typeof v === "object" && !Array.isArray(v);
        } catch {
          return false;
        }
      });
      if (!ok || lines.length === 0) {
        return { ok: false, permanent: true, reason: `batch ${seq} does not hold samples` };
      }
      return await inner.send(seq, body, signal);
    },
  };
}

/** Returns true when the job is fully delivered (and removed). */
async function flushJob(found: FoundJob, o: FlushOptions): Promise<boolean> {
  const { job, batches } = found;
  const meta = job.meta;
  const deadline = Date.now() + o.timeoutMs;
  const samples = batches.reduce((n, b) => n + b.samples, 0);
  const resume = spoolKind(meta.kind)?.resume;
  if (!resume) {
    o.deps.warn(`${job.id}: unknown kind ${JSON.stringify(meta.kind)}; kept`);
    return false;
  }
  const r = await resume(found, o);
  if ("kept" in r) {
    o.deps.warn(`${job.id}: ${r.kept}; kept`);
    return false;
  }
  const csv = meta.ext.startsWith("csv");
  const delivery = new Delivery({
    transport: validating(r.transport, csv),
    header: csv ? CSV_HEADER : "",
    tuning: o.deps.tuning,
    spool: job,
    warn: o.deps.warn,
    paused: r.paused ?? false,
    ...(r.onDelivered ? { onDelivered: (b, uri) => r.onDelivered!(b.seq, uri) } : {}),
  });
  delivery.restore(batches);
  if (!r.paused) await delivery.drain(deadline - (r.reserveMs ?? 0));
  await delivery.stop();
  const line = r.finish
    ? await r.finish(delivery, deadline)
    : keepLine(r.transport.name, await delivery.keep());
  if (line) {
    o.deps.warn(line);
    return false;
  }
  o.info(
    r.done?.(samples) ??
      `${r.transport.name}: ${samples} samples in ${batches.length} batches sent`,
  );
  return true;
}
