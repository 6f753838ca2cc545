import { strictEqual } from "node:assert/strict";
import { countPidNames, countProcesses } from "./processes.ts";

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
