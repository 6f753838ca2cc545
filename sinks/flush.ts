/**
 * `resource-tracker flush`: delivers what earlier runs left in the spool, job by job, in
 * sequence order with the same keys and numbers they were cut with (so a batch that did reach
 * its target before is overwritten, not duplicated). Credentials come from the caller's
 * environment and options now, never from the spool (see spool.ts for what is trusted);
 * Sentinel runs get fresh upload credentials and are then finished. Each job is locked while
 * it is sent, so two `flush` runs never send one batch twice. Whatever is left is named, and
 * the exit code is 1.
 */
import { Delivery, type Transport } from "./delivery.ts";
import { keepLine, type RemoteDeps } from "./remote.ts";
import { type HttpMeta, httpTransport, urlHash } from "./http.ts";
import type { Redactor } from "./redact.ts";
import { type S3Meta, s3Transport } from "./s3.ts";
import {
  completeRun,
  finishRecord,
  SentinelApi,
  sentinelApiUrl,
  type SentinelMeta,
  sentinelToken,
  SentinelUploader,
  type UploadCredentials,
} from "./sentinel.ts";
import { CSV_HEADER } from "../formats/csv.ts";
import { type FoundJob, type JobMeta, scanSpool, type SpoolFs, type SpoolScan } from "./spool.ts";
import type { RemoteWriteMeta } from "./remote_write.ts";
import type { OtlpMeta } from "./otlp.ts";
import { errorText } from "../base/errors.ts";

export interface FlushOptions {
  root: string;
  deps: RemoteDeps;
  redactor: Redactor;
  info: (line: string) => void;
  timeoutMs: number;
  tokenEnv: string;
  /** The caller's `--sink` values: the only source of URLs the spool keeps redacted. */
  sinkUris: readonly string[];
  fs: SpoolFs;
}

export async function flushSpool(o: FlushOptions): Promise<number> {
  let scan: SpoolScan;
  try {
    scan = await scanSpool(o.root, o.fs);
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

/** The full URL of an HTTP job: as stored, or the caller's `--sink` that hashes the same. */
async function httpUrl(meta: HttpMeta, sinkUris: readonly string[]): Promise<string | null> {
  if (typeof meta.urlHash !== "string") return meta.url;
  for (const uri of sinkUris) {
    let url: URL;
    try {
      url = new URL(uri.replace(/#format=\w+$/i, ""));
    } catch {
      continue;
    }
    url.hash = "";
    if (await urlHash(meta.run, url.toString()) === meta.urlHash) return url.toString();
  }
  return null;
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

/** Remote write and OTLP jobs: their modules load only when such a job is found. */
async function metricsTransport(
  meta: JobMeta,
  tokenEnv: string,
  deps: RemoteDeps,
): Promise<Transport> {
  if (meta.kind === "remote-write") {
    const { remoteWriteTransport } = await import("./remote_write.ts");
    return remoteWriteTransport(meta as RemoteWriteMeta, tokenEnv, deps);
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
    const m = meta as HttpMeta;
    const url = await httpUrl(m, o.sinkUris);
    if (url === null) {
      o.deps.warn(
        `${job.id}: the URL (${m.url}) held credentials, which the spool does not keep; run \`flush --sink URL\` with the same URL; kept`,
      );
      return false;
    }
    transport = httpTransport(m, { url, tokenEnv: o.tokenEnv }, o.deps);
  } else if (meta.kind === "remote-write" || meta.kind === "otlp") {
    transport = await metricsTransport(meta, o.tokenEnv, o.deps);
  } else if (meta.kind === "sentinel") {
    const token = sentinelToken(o.deps.env);
    if (!token) {
      o.deps.warn(`${job.id}: SENTINEL_API_TOKEN is not set; kept`);
      return false;
    }
    o.redactor.add(token);
    let m = meta as SentinelMeta;
    const apiUrl = sentinelApiUrl(o.deps.env);
    if (m.apiUrl !== apiUrl) {
      // The token goes only where the caller's configuration says, whatever job.json says.
      o.deps.warn(
        `${job.id}: the run belongs to API ${m.apiUrl}, not ${apiUrl}; set SENTINEL_API_URL to send it; kept`,
      );
      return false;
    }
    const api = new SentinelApi(apiUrl, token, o.deps.fetch);
    let creds: UploadCredentials | null = null;
    if (!m.runId) {
      if (!m.registration) {
        o.deps.warn(`${job.id}: the run was never registered and its registration is lost; kept`);
        return false;
      }
      // Registered now, once: the run id is saved before any batch goes out, so a failure
      // later resumes this run instead of registering another.
      try {
        const r = await api.register(m.registration);
        m = { ...m, runId: r.runId, uploadPrefix: r.uploadPrefix };
        delete m.registration;
        delete m.lastError;
        creds = r.credentials;
        await job.saveMeta(m);
      } catch (err) {
        o.deps.warn(`${job.id}: ${errorText(err)}; kept`);
        return false;
      }
      o.info(`Sentinel run ${m.runId}: registered`);
    }
    sentinel = { api, meta: { ...m, uris: [...m.uris] } };
    transport = m.uploadPrefix ? new SentinelUploader(api, m, creds, o.deps, o.redactor) : {
      name: "Sentinel upload",
      send: () => Promise.resolve({ ok: false, reason: "no upload location" }),
    };
  } else {
    o.deps.warn(`${job.id}: unknown kind ${JSON.stringify(meta.kind)}; kept`);
    return false;
  }
  let saving = Promise.resolve();
  const delivery = new Delivery({
    transport: validating(transport, meta.ext.startsWith("csv")),
    header: meta.ext.startsWith("csv") ? CSV_HEADER : "",
    tuning: o.deps.tuning,
    spool: job,
    warn: o.deps.warn,
    paused: sentinel !== null && !sentinel.meta.uploadPrefix,
    onDelivered: (_b, uri) => {
      if (!uri || !sentinel) return;
      sentinel.meta.uris.push(uri);
      // Saved as they come: a flush cut short resumes with every uploaded URI for /finish.
      const uris = [...sentinel.meta.uris];
      saving = saving.then(() => job.saveMeta({ ...job.meta, uris })).catch(() => {});
    },
  });
  delivery.restore(batches);
  const reserve = sentinel ? Math.min(3_000, o.timeoutMs / 3) : 0;
  if (!sentinel || sentinel.meta.uploadPrefix) await delivery.drain(deadline - reserve);
  await delivery.stop();
  await saving;
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
