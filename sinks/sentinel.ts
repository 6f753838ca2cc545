/**
 * Sentinel streaming (docs/COMPATIBILITY.md Part A "Sentinel", Part B §5): register the run in the
 * background, upload gzip CSV batches to `<upload_uri_prefix>/<seq>.csv.gz` with the temporary
 * credentials it returns (refreshed when ≤ 300 s remain or after a 403), then `/finish` with
 * every uploaded URI, or inline with the CSV of every sample when no batch reached S3. The API
 * calls are in sentinel_api.ts.
 */
import { CSV_HEADER } from "../formats/csv.ts";
import { createEncoder } from "../formats/mod.ts";
import { Delivery, type Transport } from "./delivery.ts";
import type { Redactor } from "./redact.ts";
import type { RemoteDeps } from "./remote.ts";
import { joinKey, parseS3Uri, s3Endpoint, s3Put, type S3Target } from "./s3_client.ts";
import {
  type FinishRecord,
  finishRecord,
  registrationBody,
  SentinelApi,
  sentinelApiUrl,
  transient,
  type UploadCredentials,
} from "./sentinel_api.ts";
import { resolveClose, type RunInfo, type Sink } from "./sink.ts";
import { batchName, type JobMeta, newJobId, SpoolJob } from "./spool.ts";
import { errorText } from "../base/errors.ts";
import { backoff, settlesWithin, sleep } from "../base/time.ts";

// What `flush` (sinks/flush.ts) and the registry use, from one place.
export { finishRecord, SentinelApi, sentinelApiUrl, type UploadCredentials };
export { sentinelToken } from "./sink.ts";

const REFRESH_MARGIN_MS = 300_000;
const DEFAULT_REGION = "eu-central-1";

/** What the spool keeps of a run (no credentials: `flush` refreshes them). */
export interface SentinelMeta extends JobMeta {
  kind: "sentinel";
  apiUrl: string;
  runId: string;
  uploadPrefix: string | null;
  uris: string[];
  finish: FinishRecord | null;
  /** The `/runs` body, kept while the run is not registered yet (`flush` registers it). */
  registration?: Record<string, unknown>;
}

/** S3 uploads with the run's temporary credentials. */
export class SentinelUploader implements Transport {
  readonly name = "Sentinel upload";
  #creds: UploadCredentials | null = null;
  #target: S3Target;
  #prefix: string;
  #refreshFailedReported = false;

  constructor(
    private readonly api: SentinelApi,
    private readonly meta: SentinelMeta,
    creds: UploadCredentials | null,
    private readonly deps: Pick<RemoteDeps, "env" | "fetch" | "warn">,
    private readonly redactor: Redactor,
  ) {
    const loc = parseS3Uri(meta.uploadPrefix ?? "");
    this.#prefix = loc.prefix;
    this.#target = {
      fetch: deps.fetch,
      bucket: loc.bucket,
      endpoint: s3Endpoint(deps.env),
      region: null,
      fallbackRegion: DEFAULT_REGION,
    };
    this.#setCreds(creds);
  }

  #setCreds(c: UploadCredentials | null) {
    this.#creds = c;
    if (c) {
      this.redactor.add(c.accessKeyId);
      this.redactor.add(c.secretAccessKey);
      this.redactor.add(c.sessionToken);
    }
  }

  async refresh(): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const c = await this.api.refresh(this.meta.runId);
        if (c) {
          this.#setCreds(c);
          return;
        }
      } catch (err) {
        if (attempt === 1 && !this.#refreshFailedReported) {
          this.#refreshFailedReported = true;
          this.deps.warn(`${errorText(err)}; using the old credentials`);
        }
      }
      if (attempt === 0) await sleep(1_000);
    }
  }

  async send(seq: number, body: Uint8Array, signal: AbortSignal) {
    const c = this.#creds;
    // Refresh when ≤ 300 s remain; NaN (unparsable expiry) compares false and refreshes too.
    if (!c || (c.expiresAtMs !== null && !(c.expiresAtMs - Date.now() > REFRESH_MARGIN_MS))) {
      await this.refresh();
    }
    const credentials = this.#creds;
    if (!credentials) return { ok: false as const, reason: "no upload credentials" };
    // The region the API named, else the bucket's own; kept for the run (a redirect moves it).
    this.#target.region ??= credentials.region;
    const r = await s3Put(this.#target, {
      key: joinKey(this.#prefix, batchName(seq, "csv.gz")),
      body,
      contentType: "application/gzip",
      credentials,
      signal,
    });
    if (!r.ok && !r.redirected && (r.status === 403 || r.status === 400)) {
      // Expired or revoked session credentials (AWS answers 400 ExpiredToken or 403).
      await this.refresh();
      return { ok: false as const, reason: r.reason };
    }
    return r;
  }
}

export interface SentinelOptions {
  token: string;
  run: RunInfo;
  intervalSecs: number;
  deps: RemoteDeps;
  redactor: Redactor;
  /** How long registration may wait for cloud discovery. */
  cloudWaitMs?: number;
}

/**
 * Ends a run: S3 route when every batch is uploaded, inline when none is; otherwise (or when
 * `/finish` itself fails) the batches and the finish record stay in the spool for `flush`.
 * Returns a line to print, or null when all went well.
 */
export async function completeRun(
  api: SentinelApi,
  meta: SentinelMeta,
  delivery: Delivery,
  spool: SpoolJob | null,
  finish: FinishRecord,
  deadline: number,
): Promise<string | null> {
  const left = delivery.undelivered();
  let body: Record<string, unknown> | null = null;
  if (left.length === 0 && meta.uris.length > 0) {
    body = { ...finish, data_source: "s3", data_uris: meta.uris };
  } else if (meta.uris.length === 0) {
    let csv = CSV_HEADER;
    for (const b of left) csv += await delivery.text(b);
    body = { ...finish, data_source: "inline", data_csv: csv };
  }
  let why = "some batches are not uploaded yet";
  if (body) {
    try {
      await api.finish(
        meta.runId,
        body,
        AbortSignal.timeout(Math.max(1_000, deadline - Date.now())),
      );
      await delivery.discard();
      await spool?.release(false);
      return null;
    } catch (err) {
      why = errorText(err);
    }
  }
  const done: SentinelMeta = { ...meta, finish };
  if (spool) await spool.saveMeta({ ...spool.meta, ...done });
  const kept = await delivery.keep();
  if (spool && !spool.exists) {
    // Nothing was pending but /finish failed: keep the record so `flush` can finish the run.
    try {
      await spool.create();
      await spool.saveMeta({ ...spool.meta, ...done });
      await spool.release(true);
      kept.dir = spool.dir;
    } catch { /* reported below */ }
  }
  const where = kept.dir
    ? `; run kept in "${kept.dir}" (finish it with \`resource-tracker flush\`)`
    : "";
  return `Sentinel run ${meta.runId}: ${why}${where}` +
    (kept.lost > 0 ? `; ${kept.lost} samples lost (${kept.reason})` : "");
}

/**
 * Keeps a run the API never registered: the registration body, every batch and the finish
 * record go to the spool, so `resource-tracker flush` can register, upload and finish it later.
 * Returns the line to print.
 */
async function keepUnregistered(
  meta: SentinelMeta,
  delivery: Delivery,
  spool: SpoolJob | null,
  why: string,
  retryable: boolean,
): Promise<string> {
  const samples = delivery.undelivered().reduce((n, b) => n + b.samples, 0) +
    delivery.backlog.open;
  const lastError = { reason: `run not registered: ${why}`, rejected: false, at: Date.now() };
  meta = { ...meta, lastError };
  if (spool) await spool.saveMeta({ ...spool.meta, ...meta });
  const kept = await delivery.keep(lastError.reason);
  let dir = kept.dir;
  if (spool && !dir) {
    // No sample was cut (a very short run): the registration and finish are still worth keeping.
    try {
      await spool.create();
      await spool.saveMeta({ ...spool.meta, ...meta });
      await spool.release(true);
      dir = spool.dir;
    } catch { /* reported below */ }
  }
  if (!dir) {
    return `${why}; the run could not be kept (${
      kept.reason ?? "no spool directory"
    }): ${samples} samples lost`;
  }
  return `${why}; the run (${kept.samples} samples) is kept in "${dir}"; ` +
    `send it with \`resource-tracker flush\` once the ${
      retryable ? "API is reachable" : "problem is fixed"
    }` +
    (kept.lost > 0 ? `; ${kept.lost} samples lost (${kept.reason})` : "");
}

export function createSentinelSink(o: SentinelOptions): Sink {
  const { deps, redactor } = o;
  redactor.add(o.token);
  const api = new SentinelApi(sentinelApiUrl(deps.env), o.token, deps.fetch);
  const encoder = createEncoder("csv", o.intervalSecs);
  let meta: SentinelMeta = {
    version: 1,
    kind: "sentinel",
    ext: "csv.gz",
    apiUrl: api.baseUrl,
    runId: "",
    uploadPrefix: null,
    uris: [],
    finish: null,
  };
  const spool = deps.spoolRoot
    ? new SpoolJob(deps.spoolRoot, newJobId("sentinel"), meta, deps.spoolFs)
    : null;
  let uploader: SentinelUploader | null = null;
  const transport: Transport = {
    name: "Sentinel upload",
    send: (seq, body, signal) =>
      uploader
        ? uploader.send(seq, body, signal)
        : Promise.resolve({ ok: false, permanent: true, reason: "no upload location" }),
  };
  const delivery = new Delivery({
    transport,
    header: CSV_HEADER,
    tuning: deps.tuning,
    spool,
    warn: deps.warn,
    paused: true,
    onDelivered: (_b, uri) => {
      if (uri) meta.uris.push(uri);
    },
  });
  let state: "registering" | "ready" = "registering";
  let closed = false;
  let lastError = "Sentinel registration did not finish before exit";
  let lastRetryable = true;
  const stopRetrying = new AbortController();
  let backingOff = false;
  let finished = false;
  /** Called when registration ends or starts to wait for its next try (close() waits on it). */
  let changed = () => {};

  // Registration is retried in the background while the API is unreachable; samples pile up
  // (in memory, then in the spool) and go out once it answers, or stay for `flush`.
  const registered = (async () => {
    const body = await registrationBody(o.run, o.cloudWaitMs ?? 3_000);
    meta = { ...meta, registration: body };
    for (let attempt = 1; !stopRetrying.signal.aborted; attempt++) {
      let r: Awaited<ReturnType<SentinelApi["register"]>>;
      try {
        r = await api.register(body, stopRetrying.signal);
      } catch (err) {
        if (stopRetrying.signal.aborted) {
          lastError = "Sentinel registration got no answer before exit";
          return;
        }
        lastError = errorText(err);
        const again = transient(err);
        lastRetryable = again;
        if (attempt === 1) {
          deps.warn(
            `${lastError}; ${
              again ? "retrying in the background" : "not retrying"
            }; samples are kept for Sentinel`,
          );
        }
        if (!again) return;
        backingOff = true;
        changed();
        // No jitter: one run's registration, not a crowd's.
        const wait = backoff(attempt, deps.tuning.retryBaseMs, deps.tuning.retryMaxMs);
        await sleep(wait, stopRetrying.signal);
        backingOff = false;
        continue;
      }
      meta = { ...meta, runId: r.runId, uploadPrefix: r.uploadPrefix };
      // Not fatal: the run id is saved again with the finish record or the batches.
      if (spool) await spool.saveMeta({ ...spool.meta, ...meta }).catch(() => {});
      let canUpload = false;
      if (r.uploadPrefix) {
        try {
          uploader = new SentinelUploader(api, meta, r.credentials, deps, redactor);
          canUpload = true;
        } catch {
          deps.warn("Sentinel returned an unusable upload location; samples go inline at exit");
        }
      }
      state = "ready";
      if (canUpload) delivery.resume();
      return;
    }
  })().finally(() => {
    finished = true;
    changed();
  });

  return {
    name: "Sentinel",
    write(sample) {
      if (!closed) delivery.push(encoder.encode(sample));
    },
    async close(info) {
      if (closed) return;
      closed = true;
      const { exitCode, deadline } = resolveClose(info);
      const finish = finishRecord(exitCode);
      // A registration being prepared or in flight may still answer within the grace period;
      // one that failed and waits for its next try is not tried again (the run goes to the
      // spool), so an API that refuses connections does not hold up the exit.
      // A signal during the exit flush shortens the wait (the run then goes to the spool).
      if (!finished && !backingOff) {
        const change = new Promise<void>((resolve) => (changed = resolve));
        await settlesWithin(change, deadline - 500 - Date.now(), info?.signal);
        changed = () => {};
      }
      stopRetrying.abort();
      await settlesWithin(registered, 500, info?.signal);
      if (state !== "ready") {
        await delivery.stop();
        // Exit came before the host and cloud facts: register with what is known now.
        const registration = meta.registration ?? await registrationBody(o.run, 0);
        const line = await keepUnregistered(
          { ...meta, registration, finish },
          delivery,
          spool,
          lastError,
          lastRetryable,
        );
        deps.warn(line);
        return;
      }
      // Keep a slice of the grace period for /finish.
      const reserve = Math.min(3_000, Math.max(0, (deadline - Date.now()) / 3));
      if (uploader) await delivery.drain(deadline - reserve, info?.signal);
      else await delivery.cut();
      await delivery.stop();
      const line = await completeRun(api, meta, delivery, spool, finish, deadline);
      if (line) deps.warn(line);
    },
  };
}
