/**
 * NVIDIA through `nvidia-smi` when NVML cannot be loaded: `SmiSource` refreshes in the background
 * (one child at a time, see refresher.ts) and backs off when it keeps failing. The parsers are in
 * nvidia_smi_parse.ts, the process runner in run_command.ts.
 */
import { backoff } from "../../base/time.ts";
import type { NvidiaSnapshot } from "./process_gpu.ts";
import {
  parseComputeApps,
  parsePmon,
  parseQueryGpu,
  PMON_ARGS,
  type PmonRow,
  QUERY_APPS_ARGS,
  QUERY_GPU_ARGS,
  smiSnapshot,
} from "./nvidia_smi_parse.ts";
import { Refresher } from "./refresher.ts";
import { runCommand } from "./run_command.ts";

export interface SmiSourceOptions {
  command: string;
  timeoutMs: number;
  warn: (line: string) => void;
  /** Also run `pmon` for per-process SM% (default true; turned off after it fails twice). */
  pmon?: boolean;
  /** Consecutive failures before nvidia-smi is given up (default 5). */
  maxFailures?: number;
  /** First back-off delay; doubles per consecutive failure up to `backoffMaxMs`. */
  backoffMs?: number;
  backoffMaxMs?: number;
  /** Monotonic milliseconds; injectable for tests. */
  now?: () => number;
  /** Test seam: how a command is run. */
  run?: typeof runCommand;
}

/** Background nvidia-smi refreshes; `kick()` never waits, at most one child runs at a time. */
export class SmiSource {
  #o: SmiSourceOptions;
  #run: typeof runCommand;
  #refresher: Refresher;
  #snapshot: NvidiaSnapshot | null = null;
  #abort = new AbortController();
  #pmonFailures = 0;
  #present = false;

  constructor(opts: SmiSourceOptions) {
    this.#o = opts;
    this.#run = opts.run ?? runCommand;
    this.#refresher = new Refresher(() => this.#refreshOnce(), {
      warn: opts.warn,
      ...(opts.now !== undefined ? { now: opts.now } : {}),
    });
  }

  /** One query succeeded at least once. */
  get present(): boolean {
    return this.#present;
  }

  /** Given up after repeated failures (or the command does not exist); a test observer. */
  get off(): boolean {
    return this.#refresher.off;
  }

  /** Refreshes started; a test observer. */
  get runs(): number {
    return this.#refresher.runs;
  }

  snapshot(): NvidiaSnapshot | null {
    return this.#snapshot;
  }

  kick(): void {
    this.#refresher.kick();
  }

  refresh(): Promise<void> {
    return this.#refresher.refresh();
  }

  #fail(reason: string, giveUp: boolean): void {
    const r = this.#refresher;
    if (r.closed) return;
    const failures = r.failed();
    // One failure may be a blip: keep the last good result; two in a row: it is gone.
    if (failures >= 2) this.#snapshot = null;
    if (giveUp || failures >= (this.#o.maxFailures ?? 5)) {
      this.#snapshot = null;
      r.giveUp(
        giveUp
          ? `cannot run "${this.#o.command}": ${reason}`
          : `"${this.#o.command}" failed ${failures} times in a row (${reason})`,
      );
      return;
    }
    r.postpone(backoff(failures, this.#o.backoffMs ?? 1000, this.#o.backoffMaxMs ?? 60_000));
  }

  async #refreshOnce(): Promise<void> {
    const { command, timeoutMs } = this.#o;
    const signal = this.#abort.signal;
    const gpus = await this.#run(command, QUERY_GPU_ARGS, timeoutMs, signal);
    if (!gpus.ok) return this.#fail(gpus.reason, gpus.notFound === true);
    const devices = parseQueryGpu(gpus.stdout);
    if (devices.length === 0 && gpus.stdout.trim() !== "") {
      return this.#fail("unexpected output", false);
    }
    const apps = await this.#run(command, QUERY_APPS_ARGS, timeoutMs, signal);
    if (!apps.ok) return this.#fail(apps.reason, false);
    let pmon: PmonRow[] = [];
    if ((this.#o.pmon ?? true) && this.#pmonFailures < 2 && devices.length > 0) {
      const p = await this.#run(command, PMON_ARGS, timeoutMs, signal);
      if (p.ok) {
        pmon = parsePmon(p.stdout);
        this.#pmonFailures = 0;
      } else this.#pmonFailures++;
    }
    if (this.#refresher.closed) return;
    this.#snapshot = smiSnapshot(devices, parseComputeApps(apps.stdout), pmon);
    this.#refresher.succeeded();
    this.#present = true;
  }

  /** Kills a running child and waits for it to be reaped. */
  async close(): Promise<void> {
    const closed = this.#refresher.close(); // no refresh starts from here on
    this.#abort.abort();
    await closed;
  }
}
