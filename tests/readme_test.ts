/** The README documents what the code does: its option table is the registry's. */
import { deepStrictEqual, ok } from "node:assert/strict";
import { END, optionsTable, START } from "../scripts/options_table.ts";

const README = Deno.readTextFileSync(new URL("../README.md", import.meta.url));

/** Cell contents only: `deno fmt` pads Markdown tables. */
function cells(table: string): string[][] {
  return table.trim().split("\n").map((row) =>
    row.split("|").map((c) => c.trim().replace(/^-+$/, "-"))
  );
}

Deno.test("README option table matches the registry (scripts/options_table.ts --write)", () => {
  const a = README.indexOf(START), b = README.indexOf(END);
  ok(a >= 0 && b > a, "README lacks the options markers");
  deepStrictEqual(cells(README.slice(a + START.length, b)), cells(optionsTable()));
});

Deno.test("README opens with the two commands: the launcher, and the tests .ci/run runs", () => {
  const ci = Deno.readTextFileSync(new URL("../.ci/run", import.meta.url));
  ok(README.includes("npx --yes deno@2.9.6 task test"));
  ok(ci.includes("npx --yes deno@2.9.6 task test"));
  // The first command runs the tracker through the launcher (the caller's directory).
  const commands = /## The two commands[\s\S]*?```sh\n([\s\S]*?)```/.exec(README)?.[1] ?? "";
  const lines = commands.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#"));
  ok(lines.length === 2, `the README opens with two commands, not ${lines.length}: ${lines}`);
  ok(lines[0]!.startsWith("./bin/resource-tracker "), lines[0]);
  ok(lines[1] === "npx --yes deno@2.9.6 task test", lines[1]);
});
