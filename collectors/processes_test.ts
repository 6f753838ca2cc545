import { strictEqual } from "node:assert/strict";
import {
  countPidNames,
  countProcesses,
  countProcessesByListing,
  ProcessCounter,
} from "./processes.ts";

Deno.test("countPidNames counts all-digit names only", () => {
  strictEqual(countPidNames(["1", "42", "self", "net", "thread-self", "sys"]), 2);
  strictEqual(countPidNames([]), 0);
});

Deno.test("countProcesses on the recorded tree and a missing root", () => {
  const proc = new URL("../tests/fixtures/vm-basic/proc", import.meta.url).pathname;
  const n = countProcesses(proc);
  strictEqual(n > 10, true);
  strictEqual(countProcesses("/nonexistent-proc"), 0);
});

Deno.test("the getdents64 counter agrees with a directory listing (fixture and live /proc)", () => {
  const proc = new URL("../tests/fixtures/vm-basic/proc", import.meta.url).pathname;
  strictEqual(countProcesses(proc), countProcessesByListing(proc));
  // Repeated counts rewind the same open directory.
  strictEqual(countProcesses(proc), countProcessesByListing(proc));
  const live = countProcesses("/proc"), listed = countProcessesByListing("/proc");
  strictEqual(Math.abs(live - listed) <= 5, true, `${live} vs ${listed}`);
});

Deno.test("ProcessCounter: every sample while cheap; spaced out (at most 10) when expensive", () => {
  let clock = 0, calls = 0, cost = 0.1;
  const counter = new ProcessCounter("/x", 0.3, 10, () => {
    calls++;
    clock += cost;
    return 100 + calls;
  }, () => clock);
  for (let i = 0; i < 5; i++) counter.next();
  strictEqual(calls, 5); // 0.1 ms per count: every sample
  cost = 1.5; // 5× the budget: then every 5th sample
  calls = 0;
  const seen = Array.from({ length: 10 }, () => counter.next());
  strictEqual(calls, 2);
  strictEqual(seen[1], seen[0]); // the last count is reported in between
  cost = 50; // capped at every 10th
  calls = 0;
  for (let i = 0; i < 30; i++) counter.next();
  strictEqual(calls <= 4, true);
});
