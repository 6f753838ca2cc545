import { strictEqual } from "node:assert/strict";
import { countPidNames, countProcesses, countProcessesByListing } from "./processes.ts";

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
