/**
 * How `flush` sends a spooled job again: each sink kind's `resume` (sinks/registry.ts) turns the
 * job's meta into a transport, or says why the job stays. Types only, so the kind modules and the
 * registry can both name them without importing each other.
 */
import type { Delivery, RemoteDeps, Transport } from "./delivery.ts";
import type { Redactor } from "./redact.ts";
import type { FoundJob } from "./spool.ts";

/** What a kind's `resume` gets: the caller's environment and options, never the spool's. */
export interface ResumeDeps {
  deps: RemoteDeps;
  redactor: Redactor;
  info: (line: string) => void;
  /** The variable that holds the HTTP sinks' bearer token (`--http-token-env`). */
  tokenEnv: string;
  /** The caller's `--sink` values: the only source of URLs the spool keeps redacted. */
  sinkUris: readonly string[];
  timeoutMs: number;
}

/** How one job is sent again. */
export interface Resumed {
  transport: Transport;
  /** The batches wait (Sentinel without an upload location). */
  paused?: boolean;
  /** Milliseconds of the timeout kept back from the drain for `finish`. */
  reserveMs?: number;
  onDelivered?: (seq: number, uri: string | undefined) => void;
  /** Ends the job after the drain instead of keeping what is left: a warning line, or null. */
  finish?: (delivery: Delivery, deadline: number) => Promise<string | null>;
  /** The line said when the job is delivered (default: the transport's name and the counts). */
  done?: (samples: number) => string;
}

/** Why the job stays in the spool, said as `JOB: WHY; kept`. */
export interface Kept {
  kept: string;
}

export type ResumeFn = (found: FoundJob, r: ResumeDeps) => Promise<Resumed | Kept>;
