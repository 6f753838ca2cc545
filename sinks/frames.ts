/**
 * What the metric sinks (remote write, OTLP) queue: one frame per sample as a JSON line, with
 * the cumulative counters already summed. The shared delivery engine batches, gzips and
 * spools these lines like any other sink's rows; the transport turns a batch into its wire
 * format when it sends it, so `flush` can resend a spooled batch later with the same values.
 */
import type { Sample } from "../base/sample.ts";
import { Accumulator, type Frame, frameOf } from "../metrics/model.ts";
import { gunzip } from "./compress.ts";
import { readPrefix } from "./bounded_body.ts";
import { classify, type Outcome } from "./delivery.ts";

/** An encoder for `batchedSink`: frames as JSON lines, counters summed since the start. */
export function frameEncoder(): { header: string; encode(s: Sample): string } {
  const acc = new Accumulator();
  return { header: "", encode: (s) => JSON.stringify(frameOf(s, acc)) + "\n" };
}

/** The frames of a queued batch body (gzip JSON lines). */
export async function framesOf(body: Uint8Array): Promise<Frame[]> {
  const text = new TextDecoder().decode(await gunzip(body));
  return text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as Frame);
}

/** POSTs a body and maps the answer: 2xx ok, 408/429/5xx retried, other 4xx kept. */
export async function post(
  fetchFn: typeof fetch,
  url: string,
  headers: Record<string, string>,
  body: Uint8Array,
  signal: AbortSignal,
): Promise<Outcome> {
  const res = await fetchFn(url, {
    method: "POST",
    headers,
    body: body as Uint8Array<ArrayBuffer>,
    signal,
    redirect: "manual", // a 3xx is a failure, kept and retried (README, data safety)
  });
  if (res.status >= 300 && res.status < 400) {
    await res.body?.cancel();
    return { ok: false, reason: `HTTP ${res.status} redirect, not followed` };
  }
  // The first line of an error answer says why (e.g. "out of order sample"); bounded.
  const text = res.ok ? "" : (await readPrefix(res, 1024).catch(() => "")).split("\n")[0]!
    .slice(0, 200);
  if (res.ok) await res.body?.cancel();
  const c = classify(res.status);
  if (c === "ok") return { ok: true };
  return {
    ok: false,
    permanent: c === "permanent",
    reason: `HTTP ${res.status}${text ? ` (${text.trim()})` : ""}`,
  };
}
