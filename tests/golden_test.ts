/**
 * Golden end-to-end test: the real CLI on a recorded fixture tree, output normalised (clock and
 * live filesystem sizes) and compared with a committed snapshot. Update the snapshots with
 *   deno test -A tests/golden_test.ts -- --update
 */
import { strictEqual } from "node:assert/strict";
import { fixtureArgs, jsonLines, runCli } from "./helpers.ts";

const UPDATE = Deno.args.includes("--update");
const GOLDEN = new URL("./golden/", import.meta.url).pathname;

function normaliseJson(text: string): string {
  return jsonLines(text).map((s) => {
    s.timestamp_secs = 0;
    s.timestamp_ms = 0;
    if ("actual_interval_ms" in s) s.actual_interval_ms = 0;
    for (const d of s.disk as { mounts: Record<string, unknown>[] }[]) {
      // statfs sees the live filesystem under the fixture's root: sizes vary, the set does not.
      for (const m of d.mounts) {
        for (const k of ["total_bytes", "used_bytes", "available_bytes", "used_pct"]) {
          m[k] = 0;
        }
      }
    }
    return JSON.stringify(s);
  }).join("\n") + "\n";
}

function normaliseCsv(text: string): string {
  return text.split("\n").map((line, i) => {
    if (i === 0 || line === "") return line;
    const c = line.split(",");
    c[0] = "0";
    c[13] = c[14] = c[15] = "0"; // disk space of the live filesystem
    return c.join(",");
  }).join("\n");
}

async function golden(name: string, actual: string) {
  const path = `${GOLDEN}${name}`;
  if (UPDATE) {
    Deno.mkdirSync(GOLDEN, { recursive: true });
    Deno.writeTextFileSync(path, actual);
    return;
  }
  strictEqual(
    actual,
    await Deno.readTextFile(path),
    `golden ${name} differs (run with -- --update)`,
  );
}

const ARGS = [
  ...fixtureArgs("vm-basic"),
  "--interval",
  "0.1",
  "--samples",
  "2",
  "--job-name",
  "golden",
];

Deno.test("golden: JSON Lines on the vm-basic fixture", async () => {
  const r = await runCli([...ARGS, "--output", "-"]);
  strictEqual(r.code, 0, r.stderr);
  strictEqual(r.stderr, "");
  await golden("vm-basic.jsonl", normaliseJson(r.stdout));
});

Deno.test("golden: CSV on the vm-basic fixture", async () => {
  const r = await runCli([...ARGS, "--output", "-", "--format", "csv"]);
  strictEqual(r.code, 0, r.stderr);
  await golden("vm-basic.csv", normaliseCsv(r.stdout));
});
