/**
 * `flush` for Sentinel jobs: the run is registered now if it never was (once: the run id is
 * saved before any batch goes out), batches go up with fresh upload credentials, then the run is
 * finished. The token goes only where the caller's configuration says, whatever job.json says.
 */
import { errorText } from "../base/errors.ts";
import type { Resumed, ResumeFn } from "./resume.ts";
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

export const resumeSentinel: ResumeFn = async ({ job }, o) => {
  const token = sentinelToken(o.deps.env);
  if (!token) return { kept: "SENTINEL_API_TOKEN is not set" };
  o.redactor.add(token);
  let m = job.meta as SentinelMeta;
  const apiUrl = sentinelApiUrl(o.deps.env);
  if (m.apiUrl !== apiUrl) {
    return {
      kept: `the run belongs to API ${m.apiUrl}, not ${apiUrl}; set SENTINEL_API_URL to send it`,
    };
  }
  const api = new SentinelApi(apiUrl, token, o.deps.fetch);
  let creds: UploadCredentials | null = null;
  if (!m.runId) {
    if (!m.registration) {
      return { kept: "the run was never registered and its registration is lost" };
    }
    try {
      const r = await api.register(m.registration);
      m = { ...m, runId: r.runId, uploadPrefix: r.uploadPrefix };
      delete m.registration;
      delete m.lastError;
      creds = r.credentials;
      await job.saveMeta(m);
    } catch (err) {
      return { kept: errorText(err) };
    }
    o.info(`Sentinel run ${m.runId}: registered`);
  }
  const meta: SentinelMeta = { ...m, uris: [...m.uris] };
  let saving = Promise.resolve();
  const resumed: Resumed = {
    transport: m.uploadPrefix ? new SentinelUploader(api, m, creds, o.deps, o.redactor) : {
      name: "Sentinel upload",
      send: () => Promise.resolve({ ok: false, reason: "no upload location" }),
    },
    paused: !meta.uploadPrefix,
    reserveMs: Math.min(3_000, o.timeoutMs / 3),
    onDelivered(_seq, uri) {
      if (!uri) return;
      meta.uris.push(uri);
      // Saved as they come: a flush cut short resumes with every uploaded URI for /finish.
      const uris = [...meta.uris];
      saving = saving.then(() => job.saveMeta({ ...job.meta, uris })).catch(() => {});
    },
    async finish(delivery, deadline) {
      await saving;
      return await completeRun(api, meta, delivery, job, meta.finish ?? finishRecord(1), deadline);
    },
    done: (samples) => `Sentinel run ${meta.runId}: ${samples} samples sent, run finished`,
  };
  return resumed;
};
