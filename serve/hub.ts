/**
 * What the HTTP server shows: the latest frame, a bounded window of recent samples, the
 * running summary and the live subscribers. `add()` is on the sampling path: it stores
 * references and hands one serialized line to each subscriber; everything else (exposition,
 * JSON of the window) is computed when a client asks.
 */
import type { Sample } from "../base/sample.ts";
import { SummaryBuilder } from "../report/summary.ts";
import { Accumulator, type Frame, frameOf } from "../metrics/model.ts";

export interface Subscriber {
  /** Takes one SSE `data` payload; returns false when the client is too slow (dropped). */
  push(json: string): boolean;
  close(): void;
}

export class Hub {
  readonly #max: number;
  readonly #samples: Sample[] = [];
  readonly #acc = new Accumulator();
  readonly summary: SummaryBuilder;
  readonly #subs = new Set<Subscriber>();
  readonly startedMs = Date.now();
  frame: Frame | null = null;
  count = 0;
  lastMs: number | null = null;

  /**
   * @param intervalSecs the nominal sampling interval (peaks are taken over windows of at least
   *   half of it, report/summary.ts)
   * @param max samples kept for `/api/samples` and a dashboard that connects late
   */
  constructor(intervalSecs: number, max = 900) {
    this.summary = new SummaryBuilder(intervalSecs);
    this.#max = max;
  }

  add(s: Sample): void {
    this.count++;
    this.lastMs = s.timestamp_ms;
    this.#samples.push(s);
    if (this.#samples.length > this.#max) this.#samples.shift();
    this.summary.add(s);
    this.frame = frameOf(s, this.#acc);
    if (this.#subs.size === 0) return;
    const json = JSON.stringify(s);
    for (const sub of [...this.#subs]) {
      if (!sub.push(json)) this.unsubscribe(sub);
    }
  }

  /** Samples newer than `sinceMs` (all kept ones when null), oldest first. */
  since(sinceMs: number | null, limit: number): Sample[] {
    const out = sinceMs === null
      ? this.#samples
      : this.#samples.filter((s) => s.timestamp_ms > sinceMs);
    return out.slice(-limit);
  }

  get subscribers(): number {
    return this.#subs.size;
  }

  subscribe(sub: Subscriber): void {
    this.#subs.add(sub);
  }

  unsubscribe(sub: Subscriber): void {
    if (this.#subs.delete(sub)) sub.close();
  }

  closeAll(): void {
    for (const sub of [...this.#subs]) this.unsubscribe(sub);
  }
}
