/** `process_count` (CONTRACT Part A): all-digit entries of /proc — processes, not threads. */
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

export function countProcesses(proc: string): number {
  return countPidNames(listDir(proc));
}
