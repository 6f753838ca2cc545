/**
 * The background-refresh state machine both NVIDIA sources share (NVML and nvidia-smi): `kick()`
 * never waits and starts at most one refresh at a time; failures are counted, a back-off can
 * postpone the next start, the source can be turned off for the run with one warning, and
 * `close()` stops new starts and waits for the refresh in flight.
 */
import { settlesWithin } from "../../base/time.ts";

export interface RefresherOptions {
  warn: (line: string) => void;
  /** Monotonic milliseconds; injectable for tests. */
  now?: () => number;
}

export class Refresher {
  #task: () => Promise<void>;
  #warn: (line: string) => void;
  #now: () => number;
  #inflight: Promise<void> | null = null;
  #startedAt = 0;
  #notBefore = 0;
  #off = false;
  #closed = false;
  #warned = false;
  /** Consecutive failed refreshes; `succeeded()` resets it. */
  failures = 0;
  /** Refreshes started (a test observer, and for debugging). */
  runs = 0;

  /** `task` is one refresh; it reports its outcome through `succeeded`, `failed` and `giveUp`. */
  constructor(task: () => Promise<void>, opts: RefresherOptions) {
    this.#task = task;
    this.#warn = opts.warn;
    this.#now = opts.now ?? (() => performance.now());
  }

  /** Still refreshing: neither off for the run nor closed. */
  get active(): boolean {
    return !this.#off && !this.#closed;
  }

  /** Off for the rest of the run (given up, hung, or nothing to refresh). */
  get off(): boolean {
    return this.#off;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** How long the refresh in flight has been running; undefined when none is. */
  busyMs(): number | undefined {
    return this.#inflight === null ? undefined : this.#now() - this.#startedAt;
  }

  /** Starts a refresh unless one is running, the back-off is not over, or it is off or closed. */
  kick(): void {
    if (!this.active || this.#inflight !== null || this.#now() < this.#notBefore) return;
    this.runs++;
    this.#startedAt = this.#now();
    this.#inflight = this.#task().finally(() => {
      this.#inflight = null;
    });
  }

  /** Kicks and waits for the refresh in flight (if any). */
  async refresh(): Promise<void> {
    this.kick();
    if (this.#inflight !== null) await this.#inflight;
  }

  /** A refresh worked: the failure count and any back-off are forgotten. */
  succeeded(): void {
    this.failures = 0;
    this.#notBefore = 0;
  }

  /** A refresh failed: returns the count of failures in a row. */
  failed(): number {
    return ++this.failures;
  }

  /** The next refresh starts no sooner than `delayMs` from now (a back-off). */
  postpone(delayMs: number): void {
    this.#notBefore = this.#now() + delayMs;
  }

  /** Warns once per source, whatever the line: later problems are the same story. */
  warnOnce(line: string): void {
    if (this.#warned) return;
    this.#warned = true;
    this.#warn(line);
  }

  /** No more refreshes this run; `why` is warned once, with what is lost, unless undefined. */
  giveUp(why?: string): void {
    this.#off = true;
    if (why !== undefined) this.warnOnce(`${why}; NVIDIA GPU metrics are off for this run`);
  }

  /**
   * No refresh starts any more. Resolves true once the refresh in flight has settled, false
   * when it is still running after `waitMs` (0: do not wait). Without a limit, a refresh that
   * rejects rejects here too.
   */
  async close(waitMs = Infinity): Promise<boolean> {
    this.#closed = true;
    const inflight = this.#inflight;
    if (inflight === null) return true;
    if (waitMs === Infinity) {
      await inflight;
      return true;
    }
    return waitMs > 0 && await settlesWithin(inflight, waitMs);
  }
}
