/** Scriptable faults shared by the loopback fakes. */
import { sleep } from "../../base/time.ts";

export interface Fault {
  /** Answer with this status instead of handling the request. */
  status?: number;
  /** Wait this long first (aborted when the client goes away). */
  delayMs?: number;
  /** Handle the request normally but only after the delay (a slow success). */
  slowOk?: boolean;
}

export class Faults {
  /** Used once each, in order, before `always`. */
  queue: Fault[] = [];
  /** Applied to every request while set (an outage). */
  always: Fault | null = null;

  next(): Fault | null {
    return this.queue.shift() ?? this.always;
  }
}

/** Applies a fault; returns a response to send, or null to handle the request normally. */
export async function applyFault(f: Fault | null, req: Request): Promise<Response | null> {
  if (!f) return null;
  if (f.delayMs) await sleep(f.delayMs);
  if (f.slowOk || f.status === undefined) return null;
  if (!req.bodyUsed) await req.body?.cancel();
  return new Response(`fault ${f.status}`, { status: f.status });
}
