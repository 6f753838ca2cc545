/** What every sink implements. Sinks encode with formats/ and own their delivery. */
import type { Sample } from "../base/sample.ts";

export interface CloseInfo {
  /** The tracker's exit code (the wrapped command's), for Sentinel `/finish`. */
  exitCode: number;
  /** `Date.now()` by which close must return; what is not delivered by then is kept. */
  deadline: number;
  /** Aborted when the wait must end early (a signal during the exit flush); keep the rest. */
  signal?: AbortSignal;
}

export interface Sink {
  /** Short name for messages (`stderr`, `file:/path`, `s3://bucket/prefix`); never a secret. */
  readonly name: string;
  /** Takes one sample. Returns at once: never waits for I/O. */
  write(sample: Sample): void;
  /**
   * Delivers what is pending until the deadline, keeps the rest (spool) and says where in one
   * warning line, then releases every resource (timers, files, connections).
   */
  close(info?: Partial<CloseInfo>): Promise<void>;
}

/** Default close deadline when a caller gives none. */
export const DEFAULT_FLUSH_TIMEOUT_MS = 10_000;

export function resolveClose(info: Partial<CloseInfo> | undefined): CloseInfo {
  return {
    exitCode: info?.exitCode ?? 0,
    deadline: info?.deadline ?? Date.now() + DEFAULT_FLUSH_TIMEOUT_MS,
  };
}

/**
 * The Sentinel token: `SENTINEL_API_TOKEN`, else its alias `SENTINEL_API_KEY`, trimmed; null
 * when neither holds one. Here, in a module the start-up graph loads anyway, because the run
 * asks it before the spawn (cloud discovery starts early when Sentinel is on).
 */
export function sentinelToken(env: (name: string) => string | undefined): string | null {
  return env("SENTINEL_API_TOKEN")?.trim() || env("SENTINEL_API_KEY")?.trim() || null;
}

/** What Sentinel `/runs` and the S3 run manifest need about the run (the run or replay gives it). */
export interface RunInfo {
  metadata: Record<string, string | null>;
  tags: Record<string, string>;
  command: readonly string[] | null;
  /** host_* wire fields (may resolve to {}). */
  host: () => Promise<Record<string, unknown>>;
  /** cloud_* fields, nulls if unknown; resolves within maxWaitMs. */
  cloud: (maxWaitMs: number) => Promise<Record<string, unknown>>;
}
