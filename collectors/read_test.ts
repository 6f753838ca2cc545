import { ok, strictEqual } from "node:assert/strict";
import { sleep } from "../base/time.ts";
import { readText, registerRoot } from "./read.ts";

registerRoot("/proc");
registerRoot("/sys");

/** A sleeping child whose environment is `bytes` long: /proc/<pid>/environ is then that big. */
function childWithEnv(bytes: number): Deno.ChildProcess {
  return new Deno.Command("sleep", {
    args: ["30"],
    env: { BIG: "x".repeat(bytes) },
    clearEnv: true,
    stdout: "null",
    stderr: "null",
  }).spawn();
}

Deno.test("kept /proc/<pid> files: short and long contents read whole, vanished PIDs undefined", async () => {
  for (const size of [100, 2047, 2048, 5000, 70_000]) {
    const child = childWithEnv(size);
    try {
      // Wait until the exec has set up the new stack: before, environ is empty or the parent's.
      const path = `/proc/${child.pid}/environ`;
      let expected = "";
      for (let i = 0; i < 100 && expected.length <= size; i++) {
        await sleep(10);
        expected = Deno.readTextFileSync(path);
      }
      ok(expected.startsWith(`BIG=${"x".repeat(size)}`), `environ of ${size}`);
      strictEqual(readText(path), expected, `first read, ${size}`);
      strictEqual(readText(path), expected, `second read of the kept descriptor, ${size}`);
    } finally {
      child.kill("SIGKILL");
      await child.status;
    }
    strictEqual(readText(`/proc/${child.pid}/stat`), undefined);
  }
});

Deno.test("kept descriptors show fresh content on every read", async () => {
  const busy = new Deno.Command("sh", { args: ["-c", "while :; do :; done"] }).spawn();
  try {
    await sleep(30);
    const path = `/proc/${busy.pid}/schedstat`;
    const first = readText(path);
    ok(first !== undefined && /^\d+ \d+ \d+\n$/.test(first), first);
    await sleep(50);
    const second = readText(path)!;
    ok(BigInt(second.split(" ")[0]!) > BigInt(first.split(" ")[0]!), `${first} → ${second}`);
  } finally {
    busy.kill("SIGKILL");
    await busy.status;
  }
});

Deno.test("sysfs attributes and host-wide /proc files equal a plain read", () => {
  for (const path of ["/sys/class/net/lo/mtu", "/proc/meminfo", "/proc/self/mountinfo"]) {
    let plain: string;
    try {
      plain = Deno.readTextFileSync(path);
    } catch {
      continue; // not on this machine
    }
    const kept = readText(path);
    ok(kept !== undefined, path);
    // meminfo changes between two reads; its shape (line count) does not.
    strictEqual(kept.split("\n").length, plain.split("\n").length, path);
  }
});
