/**
 * The delivery engine every remote sink shares: rows accumulate in an open batch that is cut
 * every upload interval, compressed, and sent strictly in order, one request at a time.
 *
 * - A batch gets its sequence number when it is cut and keeps it (and its bytes) through every
 *   retry, so a retry after a lost response rewrites the same object: no duplicates, and the
 *   numbers stay contiguous.
 * - Failures are retried with exponential back-off and jitter; permanent ones (a 4xx) are
 *   reported once and the batch is kept for `flush`.
 * - Bodies waiting in memory are bounded: past the limit the newest go to the spool. If the
 *   spool cannot be written (full disk), they stay in memory up to a hard limit.
 * - Durable once delivery fails: a batch that failed once, and every batch cut while the
 *   target keeps failing, is written to the spool (fsynced) before the next try, so a crash
 *   or SIGKILL during an outage loses at most the open batch (one upload interval).
 * - `write()` only appends a string: it never waits for I/O.
 */
import { compress, gunzip } from "./compress.ts";
import type { SpoolJob } from "./spool.ts";
import { errorText, shortReason } from "../base/errors.ts";
import { backoff } from "../base/time.ts";

/** The cause of a failed `fetch`, in a few words (Deno's messages nest the URL and layers). */
export function networkReason(err: unknown): string {
  let msg = errorText(err);
  // Deno 2.x: "fetch failed", the layers in `cause`.
  if (err instanceof Error && err.cause !== undefined) msg += ` ${String(err.cause)}`;
  const m =
    /(connection refused|connection reset|timed out|no route to host|network is unreachable|failed to lookup address information[^)]*|dns error[^)]*|invalid peer certificate[^)]*|certificate[^)]*)/i
      .exec(msg);
  return m ? m[1]!.trim() : "network error";
}

export type Outcome =
  | { ok: true; uri?: string }
  | { ok: false; permanent?: boolean; reason: string };

/** What to do after an S3 or HTTP status. */
export function classify(status: number): "ok" | "retry" | "permanent" {
  if (status >= 200 && status < 300) return "ok";
  if (status === 408 || status === 429 || status >= 500) return "retry";
  return "permanent";
}

export interface Transport {
  /** Short printable name (redacted). */
  readonly name: string;
  send(seq: number, body: Uint8Array, signal: AbortSignal): Promise<Outcome>;
}

export interface Batch {
  seq: number;
  samples: number;
  /** Compressed body while in memory; null once spooled. */
  body: Uint8Array | null;
  /** Spool path once written there. */
  path: string | null;
  size: number;
}

export interface Tuning {
  /** Batch cut period. */
  intervalMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Compressed bodies kept in memory before spooling. */
  memLimitBytes: number;
  /** Past this (spool unusable), the oldest in-memory batches are dropped. */
  hardLimitBytes: number;
  /** Raw bytes of one open batch before it is cut early. */
  maxBatchBytes: number;
  requestTimeoutMs: number;
}

export const DEFAULT_TUNING: Tuning = {
  intervalMs: 60_000,
  retryBaseMs: 1_000,
  retryMaxMs: 60_000,
  memLimitBytes: 8 << 20,
  hardLimitBytes: 128 << 20,
  maxBatchBytes: 4 << 20,
  requestTimeoutMs: 30_000,
};

export interface DeliveryOptions {
  transport: Transport;
  /** Written at the start of every batch (CSV header) or "". */
  header: string;
  tuning: Tuning;
  /** The spool job, created on first use; null = no spool available. */
  spool: SpoolJob | null;
  warn: (line: string) => void;
  firstSeq?: number;
  /** Start paused (Sentinel before registration). */
  paused?: boolean;
  random?: () => number;
  onDelivered?: (batch: Batch, uri: string | undefined) => void;
}

export interface KeepReport {
  batches: number;
  samples: number;
  /** Samples that could neither be delivered nor written to the spool. */
  lost: number;
  dir: string | null;
  reason: string | null;
}

/**
 * The wait before the next try after `failures` failures in a row (1 = the first): exponential
 * from `retryBaseMs`, capped at `retryMaxMs`, with "equal jitter" (half fixed, half random) so
 * many trackers cut off together do not come back in step. `random` returns [0, 1).
 */
export function retryDelay(
  failures: number,
  tuning: Pick<Tuning, "retryBaseMs" | "retryMaxMs">,
  random: () => number,
): number {
  const exp = backoff(failures, tuning.retryBaseMs, tuning.retryMaxMs);
  return exp / 2 + random() * (exp / 2);
}

const enc = new TextEncoder();

class PermanentError extends Error {}

export class Delivery {
  readonly #o: DeliveryOptions;
  #open: string[] = [];
  #openBytes = 0;
  #nextSeq: number;
  #pending: Batch[] = [];
  /** Batches that failed permanently: kept, not retried in this run. */
  #kept: Batch[] = [];
  #paused: boolean;
  #stopped = false;
  #failures = 0;
  #retryAt = 0;
  #wake: (() => void) | null = null;
  /** Woken after every attempt and when sending stops: what `drain` waits on. */
  #settled: (() => void) | null = null;
  #ticker: ReturnType<typeof setInterval> | undefined;
  #loop: Promise<void> | null = null;
  #inflight: AbortController | null = null;
  #cutting: Promise<void> = Promise.resolve();
  #reported = new Set<string>();
  #spoolBroken: string | null = null;
  /** Why batches are not delivered, for `flush --list`. */
  #errors = new Map<number, { reason: string; rejected: boolean }>();
  #lastReason: string | null = null;
  /** Samples delivered so far; read by the tests only. */
  delivered = 0;

  constructor(o: DeliveryOptions) {
    this.#o = o;
    this.#nextSeq = o.firstSeq ?? 1;
    this.#paused = o.paused === true;
    this.#ticker = setInterval(() => this.cut(), Math.max(50, o.tuning.intervalMs));
    this.#loop = this.#run();
  }

  get nextSeq(): number {
    return this.#nextSeq;
  }

  /** Rows waiting (open batch), batches pending and kept. */
  get backlog(): { open: number; pending: number; kept: number } {
    return { open: this.#open.length, pending: this.#pending.length, kept: this.#kept.length };
  }

  /** Appends one encoded row. Synchronous and cheap. */
  push(row: string): void {
    this.#open.push(row);
    this.#openBytes += row.length;
    if (this.#openBytes >= this.#o.tuning.maxBatchBytes) this.cut();
  }

  /** Adds batches found in the spool (the `flush` command). */
  restore(batches: readonly { seq: number; path: string; samples: number }[]): void {
    for (const b of batches) {
      this.#pending.push({ seq: b.seq, samples: b.samples, body: null, path: b.path, size: 0 });
      this.#nextSeq = Math.max(this.#nextSeq, b.seq + 1);
    }
    this.#kick();
  }

  resume(): void {
    this.#paused = false;
    this.#kick();
  }

  /** Cuts the open batch (if any) into a pending one. */
  cut(): Promise<void> {
    if (this.#open.length === 0) return this.#cutting;
    const rows = this.#open;
    const seq = this.#nextSeq++;
    this.#open = [];
    this.#openBytes = 0;
    const text = this.#o.header + rows.join("");
    // Chained so batches enter the queue in sequence order whatever gzip's timing.
    this.#cutting = this.#cutting.then(async () => {
      const body = new Uint8Array(await compress(enc.encode(text), "gzip"));
      const batch: Batch = { seq, samples: rows.length, body, path: null, size: body.length };
      this.#pending.push(batch);
      if (this.#failures > 0) await this.#spoolBatch(batch); // queued behind a failing one
      await this.#relieveMemory();
      this.#kick();
    });
    return this.#cutting;
  }

  #kick(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  #settle(): void {
    const w = this.#settled;
    this.#settled = null;
    w?.();
  }

  /** Resolves after the next attempt ends, when sending stops, or when `until` aborts. */
  #nextSettled(until: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        until.removeEventListener("abort", done);
        resolve();
      };
      if (until.aborted) return resolve();
      until.addEventListener("abort", done, { once: true });
      const prev = this.#settled;
      this.#settled = () => {
        prev?.();
        done();
      };
    });
  }

  #idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms < Infinity ? setTimeout(() => this.#kick(), ms) : undefined;
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      const head = this.#pending[0];
      const wait = this.#retryAt - Date.now();
      if (!head || this.#paused) {
        await this.#idle(Infinity);
        continue;
      }
      if (wait > 0) {
        await this.#idle(wait);
        continue;
      }
      await this.#attempt(head);
      this.#settle();
    }
    this.#settle();
  }

  async #attempt(batch: Batch): Promise<void> {
    let outcome: Outcome;
    const ctl = new AbortController();
    this.#inflight = ctl;
    // Aborted by the request timeout, or by drain's deadline and stop() through `ctl`.
    const signal = AbortSignal.any([
      ctl.signal,
      AbortSignal.timeout(this.#o.tuning.requestTimeoutMs),
    ]);
    try {
      let body = batch.body;
      if (body === null) {
        try {
          body = await this.#o.spool!.read(batch.path!);
        } catch (err) {
          // A spooled file we must not or cannot read (a symlink, another user's) stays.
          throw new PermanentError(
            `cannot read spooled batch ${batch.seq} (${errorText(err)})`,
          );
        }
      }
      outcome = await this.#o.transport.send(batch.seq, body, signal);
    } catch (err) {
      if (err instanceof PermanentError) {
        outcome = { ok: false, permanent: true, reason: err.message };
      } else {
        outcome = {
          ok: false,
          reason: signal.aborted
            ? "timed out"
            : err instanceof TypeError
            ? networkReason(err)
            : errorText(err),
        };
      }
    } finally {
      this.#inflight = null;
    }
    if (this.#pending[0] !== batch) return; // taken over by close()
    if (outcome.ok) {
      this.#pending.shift();
      this.#failures = 0;
      this.#retryAt = 0;
      this.delivered += batch.samples;
      if (batch.path) await this.#o.spool?.drop(batch.seq, batch.path);
      this.#o.onDelivered?.(batch, outcome.uri);
      return;
    }
    if (outcome.permanent) {
      this.#pending.shift();
      this.#report(`${this.#o.transport.name}: ${outcome.reason}; not retrying, batch kept`);
      this.#kept.push(batch);
      this.#errors.set(batch.seq, { reason: outcome.reason, rejected: true });
      if (await this.#spoolBatch(batch)) {
        await this.#o.spool?.noteErrors([[batch.seq, outcome.reason, true]]).catch(() => {});
      }
      return;
    }
    this.#lastReason = outcome.reason;
    this.#failures++;
    if (this.#failures === 1 || this.#failures % 10 === 0) {
      this.#o.warn(
        `${this.#o.transport.name}: upload failed (${outcome.reason}); retrying (attempt ${this.#failures})`,
      );
    }
    this.#retryAt = Date.now() +
      retryDelay(this.#failures, this.#o.tuning, this.#o.random ?? Math.random);
    // On disk before the next try: nothing that failed once lives only in memory.
    for (const b of this.#pending) if (b.body && !await this.#spoolBatch(b)) break;
    await this.#relieveMemory();
  }

  #report(line: string): void {
    if (this.#reported.has(line)) return;
    this.#reported.add(line);
    this.#o.warn(line);
  }

  async #spoolBatch(b: Batch): Promise<boolean> {
    if (b.path) return true;
    if (!this.#o.spool) return false;
    try {
      b.path = await this.#o.spool.put(b.seq, b.body!, b.samples);
      b.body = null;
      return true;
    } catch (err) {
      // Deno's own messages end in ": path"; ours (spool.ts) say everything before any colon.
      const why = shortReason(err);
      this.#spoolBroken = why;
      this.#report(
        `${this.#o.transport.name}: cannot write spool "${this.#o.spool.dir}" (${why}); keeping batches in memory`,
      );
      return false;
    }
  }

  /** Spools the newest in-memory batches while memory use is above the limit. */
  async #relieveMemory(): Promise<void> {
    const inMemory = () =>
      [...this.#pending, ...this.#kept].reduce((n, b) => n + (b.body?.length ?? 0), 0);
    if (inMemory() <= this.#o.tuning.memLimitBytes) return;
    for (let i = this.#pending.length - 1; i >= 1; i--) {
      const b = this.#pending[i]!;
      if (!b.body) continue;
      if (!await this.#spoolBatch(b)) break;
      if (inMemory() <= this.#o.tuning.memLimitBytes) return;
    }
    // Spool unavailable: a hard limit keeps the tracker alive; the oldest data goes first.
    while (inMemory() > this.#o.tuning.hardLimitBytes) {
      const i = this.#pending.findIndex((b, n) => n > 0 && b.body !== null);
      if (i < 0) break;
      const dropped = this.#pending.splice(i, 1)[0]!;
      this.#o.warn(
        `${this.#o.transport.name}: memory limit reached and spool unusable; dropped batch ${dropped.seq} (${dropped.samples} samples)`,
      );
    }
  }

  /**
   * Cuts what is open and delivers until nothing is pending or the deadline passes; the
   * request in flight at the deadline is aborted. Returns whether everything was delivered.
   */
  async drain(deadline: number, signal?: AbortSignal): Promise<boolean> {
    await this.cut();
    this.#retryAt = 0;
    this.#paused = false;
    this.#kick();
    // A request still in flight at the deadline (or when `signal` aborts) is cut short.
    const timeout = AbortSignal.timeout(Math.max(0, deadline - Date.now()));
    const until = signal ? AbortSignal.any([timeout, signal]) : timeout;
    const cutShort = () => this.#inflight?.abort();
    until.addEventListener("abort", cutShort, { once: true });
    // The loop does the sending; this wakes after each attempt to see where things stand.
    while (this.#pending.length > 0 && !until.aborted && !this.#stopped) {
      if (!this.#inflight && this.#retryAt > deadline) break; // next try would be too late
      await this.#nextSettled(until);
    }
    // A listener left on a timeout signal keeps its timer (and the process) alive.
    until.removeEventListener("abort", cutShort);
    return this.#pending.length === 0 && this.#kept.length === 0;
  }

  /** Stops sending; aborts a request in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#ticker);
    this.#inflight?.abort();
    this.#kick();
    await this.#loop;
    await this.#cutting;
  }

  /** Undelivered batches in order (for Sentinel's inline fallback). */
  undelivered(): Batch[] {
    return [...this.#kept, ...this.#pending].sort((a, b) => a.seq - b.seq);
  }

  /** The raw text (header stripped) of an undelivered batch. */
  async text(b: Batch): Promise<string> {
    const body = b.body ?? await this.#o.spool!.read(b.path!);
    const text = new TextDecoder().decode(await gunzip(body));
    return text.slice(this.#o.header.length);
  }

  /** Forgets every undelivered batch (delivered another way, e.g. inline). */
  async discard(): Promise<void> {
    for (const b of this.undelivered()) if (b.path) await this.#o.spool?.drop(b.seq, b.path);
    this.#pending = [];
    this.#kept = [];
  }

  /**
   * After stop(): writes whatever is still in memory to the spool and says what is where.
   * `why` is recorded for batches never tried (e.g. a run not registered yet).
   */
  async keep(why?: string): Promise<KeepReport> {
    await this.cut();
    let samples = 0, lost = 0;
    const all = this.undelivered();
    for (const b of all) {
      if (await this.#spoolBatch(b)) samples += b.samples;
      else lost += b.samples;
    }
    // Say why each kept batch is there (the last failure, or "not tried" before the deadline).
    const spool = this.#o.spool;
    if (spool?.exists) {
      const notes: [number, string, boolean][] = [];
      for (const b of all) {
        if (!b.path) continue;
        const e = this.#errors.get(b.seq) ??
          { reason: why ?? this.#lastReason ?? "not sent before the deadline", rejected: false };
        notes.push([b.seq, e.reason, e.rejected]);
      }
      await spool.noteErrors(notes).catch(() => {});
    }
    const anyOnDisk = all.some((b) => b.path !== null);
    await this.#o.spool?.release(anyOnDisk);
    return {
      batches: all.filter((b) => b.path !== null).length,
      samples,
      lost,
      dir: anyOnDisk ? this.#o.spool!.dir : null,
      reason: this.#spoolBroken ?? (this.#o.spool ? null : "no spool directory"),
    };
  }
}
