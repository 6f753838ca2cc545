/**
 * The in-process tracker behind mod.ts: the CLI's Sampler, ProcessTracker, loop and summary,
 * pointed at the calling process (and its children) instead of a wrapped command.
 */
import { runLoop } from "./loop.ts";
import { ProcessTracker } from "./process_tracker.ts";
import type { Sample } from "../base/sample.ts";
import { Sampler } from "./sampler.ts";
import { type RunSummary, SummaryBuilder } from "../report/summary.ts";
import denoJson from "../deno.json" with { type: "json" };

export type { RunSummary, Sample };

export interface TrackOptions {
  /** Seconds between samples; at least 0.1. Default 1. */
  interval?: number;
  /**
   * `"samples"` (default) keeps every sample and the summary; `"summary"` keeps only the
   * running aggregates (constant memory, for long runs). `onSample` sees every sample in both.
   */
  mode?: "samples" | "summary";
  /** Called with each sample as it is taken. */
  onSample?: (sample: Sample) => void;
  /** Called with each warning (a collector that failed, …); they are also in the result. */
  onWarning?: (line: string) => void;
  /** `job_name` in every sample. */
  jobName?: string;
  /** Where procfs, sysfs and the root filesystem are (defaults /proc, /sys, /). */
  procfs?: string;
  sysfs?: string;
  rootfs?: string;
}

/** What a tracking run (or one measured call) ends with. */
export interface TrackResult {
  /** Every sample in mode `"samples"`; empty in mode `"summary"`. */
  samples: Sample[];
  /** The same summary the CLI prints for a tracked command (`command` is null). */
  summary: RunSummary;
  /** This process and its children at the start: what the measured code found. */
  baseline: { rss_mib: number; pss_mib: number; child_count: number };
  warnings: string[];
}

export interface Tracking {
  /** The tracked process: the caller's own PID. */
  readonly pid: number;
  /** The summary of what was sampled so far. */
  summary(): RunSummary;
  /** Takes a last sample (the partial interval), stops sampling and returns the result. */
  stop(): Promise<TrackResult>;
}

/** Deno lets a program read /proc/PID/smaps_rollup (PSS) only under --allow-all. */
function pssUnreadable(proc: string): string | null {
  try {
    Deno.openSync(`${proc}/${Deno.pid}/smaps_rollup`).close();
    return null;
  } catch (err) {
    if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
      return "PSS is not readable without --allow-all (Deno's rule for /proc/PID/smaps_rollup): " +
        "process_pss_mib reads 0, RSS comes from /proc/PID/status";
    }
    return null; // no smaps_rollup (old kernel): the collector falls back to status
  }
}

function checkInterval(v: number | undefined): number {
  const secs = v ?? 1;
  if (!Number.isFinite(secs) || secs < 0.1) {
    throw new RangeError(`interval: expected seconds >= 0.1, got ${v}`);
  }
  return secs;
}

export function startTracking(o: TrackOptions = {}): Tracking {
  const intervalSecs = checkInterval(o.interval);
  const mode = o.mode ?? "samples";
  if (mode !== "samples" && mode !== "summary") {
    throw new RangeError(`mode: expected "samples" or "summary", got ${JSON.stringify(mode)}`);
  }
  const warnings: string[] = [];
  const warn = (line: string) => {
    if (warnings.length < 100) warnings.push(line);
    o.onWarning?.(line);
  };
  const proc = o.procfs ?? "/proc";
  const pssWarning = pssUnreadable(proc);
  if (pssWarning) warn(pssWarning);
  const tracker = new ProcessTracker(proc, Deno.pid);
  const sampler = new Sampler({
    roots: { proc, sys: o.sysfs ?? "/sys", root: o.rootfs ?? "/" },
    jobName: o.jobName ?? null,
    version: denoJson.version,
    warn,
    process: tracker,
  });
  const samples: Sample[] = [];
  const builder = new SummaryBuilder(intervalSecs);
  const stop = new AbortController();
  const startedMs = Date.now();
  let baseline: TrackResult["baseline"] | undefined;
  // runLoop takes the baseline synchronously, before it first awaits: the block that follows
  // `startTracking()` is measured from here.
  const loop = runLoop({
    intervalMs: intervalSecs * 1000,
    collect: (wallMs, actual) => {
      const s = sampler.collect(wallMs, actual);
      baseline ??= {
        rss_mib: s.cpu.process_rss_mib ?? 0,
        pss_mib: s.cpu.process_pss_mib ?? 0,
        child_count: s.cpu.process_child_count ?? 0,
      };
      return s;
    },
    emit: (s) => {
      builder.add(s);
      if (mode === "samples") samples.push(s);
      o.onSample?.(s);
    },
    stop: stop.signal,
    // The end of the measured code always gets its sample, however short the last interval.
    finalMinMs: () => 0,
  });
  const summary = () =>
    builder.build({
      command: null,
      trackedPid: Deno.pid,
      exitCode: null,
      end: "stopped",
      durationSecs: (Date.now() - startedMs) / 1000,
      cloud: null,
    });
  let result: Promise<TrackResult> | undefined;
  return {
    pid: Deno.pid,
    summary,
    stop: () =>
      result ??= (async () => {
        stop.abort();
        await loop;
        return { samples, summary: summary(), baseline: baseline!, warnings };
      })(),
  };
}

/**
 * Boundary mode: measures one call. Its window opens right before `fn` runs and closes right
 * after it settles, with a sample at each end (and one per interval between, when `fn` yields).
 */
export async function measure<T>(
  fn: () => T | Promise<T>,
  o: Omit<TrackOptions, "mode"> & { mode?: "samples" | "summary" } = {},
): Promise<TrackResult & { value: T }> {
  const t = startTracking({ ...o, interval: o.interval ?? 0.1 });
  let value: T;
  try {
    value = await fn();
  } catch (err) {
    await t.stop();
    throw err;
  }
  return { ...await t.stop(), value };
}
