/**
 * An HTTP batch receiver on loopback: gunzips each POST, keeps the first copy per
 * `Idempotency-Key` (a retry after a lost response is counted, not stored twice).
 */
import { gunzipSync } from "node:zlib";
import { sleep } from "../../base/time.ts";
import { applyFault, Faults } from "./faults.ts";
import { LoopbackFake } from "./loopback.ts";

export interface Received {
  key: string;
  seq: number;
  text: string;
  contentType: string | null;
  authorization: string | null;
  /** `X-Tracker-Run-Metadata`, parsed. */
  runMetadata: Record<string, unknown> | null;
  userAgent: string | null;
}

export class HttpReceiver extends LoopbackFake {
  readonly batches = new Map<string, Received>();
  readonly faults = new Faults();
  requests = 0;
  duplicates = 0;

  /** All received text in sequence order. */
  text(): string {
    return [...this.batches.values()].sort((a, b) => a.seq - b.seq).map((b) => b.text).join("");
  }

  protected async handle(req: Request): Promise<Response> {
    this.requests++;
    const fault = this.faults.next();
    const early = await applyFault(fault && !fault.slowOk ? fault : null, req);
    if (early) return early;
    const body = new Uint8Array(await req.arrayBuffer());
    if (req.headers.get("content-encoding") !== "gzip") return new Response(null, { status: 415 });
    const key = req.headers.get("idempotency-key") ?? crypto.randomUUID();
    if (this.batches.has(key)) this.duplicates++;
    else {
      this.batches.set(key, {
        key,
        seq: Number(req.headers.get("x-batch-sequence")),
        text: new TextDecoder().decode(gunzipSync(body)),
        contentType: req.headers.get("content-type"),
        authorization: req.headers.get("authorization"),
        runMetadata: JSON.parse(req.headers.get("x-tracker-run-metadata") ?? "null"),
        userAgent: req.headers.get("user-agent"),
      });
    }
    // A slow success: stored, but the answer may come after the client gave up.
    if (fault?.slowOk) await sleep(fault.delayMs ?? 0);
    return new Response(null, { status: 204 });
  }
}
