/**
 * `resource-tracker flush`: delivers what earlier runs left in the spool, job by job, in
 * sequence order with the same keys and numbers they were cut with (so a batch that did reach
 * its target before is overwritten, not duplicated). Credentials come from the environment
 * now; Sentinel runs get fresh upload credentials and are then finished.
 */
import { Delivery, keepLine, type RemoteDeps, type Transport } from "./delivery.ts";
import { type HttpMeta, httpTransport } from "./http.ts";
import type { Redactor } from "./redact.ts";
import { type S3Meta, s3Transport } from "./s3.ts";
import {
  completeRun,
  finishRecord,
  SentinelApi,
  type SentinelMeta,
  sentinelToken,
  SentinelUploader,
} from "./sentinel.ts";
import { CSV_HEADER } from "../formats/csv.ts";
import { findJobs, type FoundJob, type JobMeta, type SpoolFs } from "./spool.ts";
import type { RemoteWriteMeta } from "./remote_write.ts";
import type { OtlpMeta } from "./otlp.ts";

export interface FlushOptions {
  root: string;
  deps: RemoteDeps;
  redactor: Redactor;
  info: (line: string) => void;
  timeoutMs: number;
  tokenEnv: string;
  fs: SpoolFs;
}

export async function flushSpool(o: FlushOptions): Promise<number> {
  let jobs: FoundJob[];
  try {
    jobs = await findJobs(o.root, o.fs);
  } catch (err) {
    o.deps.warn(`cannot read spool "${o.root}": ${err instanceof Error ? err.message : err}`);
    return 1;
  }
  if (jobs.length === 0) {
    o.info(`nothing to flush in "${o.root}"`);
    return 0;
  }
  let left = 0;
  for (const found of jobs) {
    try {
      if (!await flushJob(found, o)) left++;
    } catch (err) {
      left++;
      o.deps.warn(`${found.job.id}: ${err instanceof Error ? err.message : err}`);
    }
  }
  return left === 0 ? 0 : 1;
}

/** Remote write and OTLP jobs: their modules load only when such a job is found. */
async function metricsTransport(meta: JobMeta, deps: RemoteDeps): Promise<Transport> {
  if (meta.kind === "remote-write") {
    const { remoteWriteTransport } = await import("./remote_write.ts");
    return remoteWriteTransport(meta as RemoteWriteMeta, deps);
  }
  const { otlpTransport } = await import("./otlp.ts");
  // A run that never reached its collector never resolved its resource: name the service.
  return otlpTransport(
    meta as OtlpMeta,
    deps,
    () => Promise.resolve({ "service.name": "resource-tracker" }),
  );
}

/** Returns true when the job is fully delivered (and removed). */
async function flushJob({ job, batches }: FoundJob, o: FlushOptions): Promise<boolean> {
  const meta = job.meta;
  const deadline = Date.now() + o.timeoutMs;
  const samples = batches.reduce((n, b) => n + b.samples, 0);
  let transport: Transport;
  let sentinel: { api: SentinelApi; meta: SentinelMeta } | null = null;
  if (meta.kind === "s3") {
    if (!o.deps.env("AWS_ACCESS_KEY_ID") || !o.deps.env("AWS_SECRET_ACCESS_KEY")) {
      o.deps.warn(`${job.id}: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set; kept`);
      return false;
    }
    transport = s3Transport(meta as S3Meta, o.deps);
  } else if (meta.kind === "http") {
    transport = httpTransport(meta as HttpMeta, o.deps);
  } else if (meta.kind === "remote-write" || meta.kind === "otlp") {
    transport = await metricsTransport(meta, o.deps);
  } else if (meta.kind === "sentinel") {
    const token = sentinelToken(o.deps.env);
    if (!token) {
      o.deps.warn(`${job.id}: SENTINEL_API_TOKEN is not set; kept`);
      return false;
    }
    o.redactor.add(token);
    const m = meta as SentinelMeta;
    if (!m.runId) {
      o.deps.warn(`${job.id}: the run was never registered; nothing can be sent`);
      return false;
    }
    const api = new SentinelApi(m.apiUrl, token, o.deps.fetch);
    sentinel = { api, meta: { ...m, uris: [...m.uris] } };
    transport = m.uploadPrefix ? new SentinelUploader(api, m, null, o.deps, o.redactor) : {
      name: "Sentinel upload",
      send: () => Promise.resolve({ ok: false, reason: "no upload location" }),
    };
  } else {
    o.deps.warn(`${job.id}: unknown kind ${JSON.stringify(meta.kind)}; kept`);
    return false;
  }
  const delivery = new Delivery({
    transport,
    header: meta.ext.startsWith("csv") ? CSV_HEADER : "",
    tuning: o.deps.tuning,
    spool: job,
    warn: o.deps.warn,
    paused: sentinel !== null && !sentinel.meta.uploadPrefix,
    onDelivered: (_b, uri) => {
      if (uri && sentinel) sentinel.meta.uris.push(uri);
    },
  });
  delivery.restore(batches);
  const reserve = sentinel ? Math.min(3_000, o.timeoutMs / 3) : 0;
  if (!sentinel || sentinel.meta.uploadPrefix) await delivery.drain(deadline - reserve);
  await delivery.stop();
  if (sentinel) {
    const finish = sentinel.meta.finish ?? finishRecord(1);
    const line = await completeRun(sentinel.api, sentinel.meta, delivery, job, finish, deadline);
    if (line) {
      o.deps.warn(line);
      return false;
    }
    o.info(`Sentinel run ${sentinel.meta.runId}: ${samples} samples sent, run finished`);
    return true;
  }
  const report = await delivery.keep();
  const line = keepLine(transport.name, report);
  if (line) {
    o.deps.warn(line);
    return false;
  }
  o.info(`${transport.name}: ${samples} samples in ${batches.length} batches sent`);
  return true;
}
