import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { CREDENTIALS, GROUPS, helpText, helpWidth, subcommandHelpText, wrap } from "./help.ts";
import { OPTIONS } from "./options.ts";

const SUBS = [
  { name: "host", help: "Print the host facts as JSON.", options: ["procfs", "no-gpu"] },
  { name: "help", help: "Show the help.", usage: "[SUBCOMMAND]" },
];

/** Example command lines are not wrapped (they are meant to be copied); all else fits. */
function overlong(text: string, width: number): string[] {
  return text.split("\n").filter((l) =>
    l.length > width && !l.startsWith("    resource-tracker") && l.trim().includes(" ")
  );
}

Deno.test("help: wraps to the width asked, at most 100 columns", () => {
  for (const width of [40, 60, 80, 100]) {
    const text = helpText("1.2.3", SUBS, width);
    deepStrictEqual(overlong(text, width), [], `width ${width}`);
  }
  deepStrictEqual(wrap("aa bb cc", 5), ["aa bb", "cc"]);
  deepStrictEqual(wrap("a verylongword b", 6, 2, 0), ["a", "  verylongword", "  b"]);
});

Deno.test("help: every option once, in its group, with its variable; groups in order", () => {
  const text = helpText("1.2.3", SUBS, 100);
  for (const o of OPTIONS) {
    const flag = new RegExp(`^ {2}(-\\w, | {4})--${o.name}( |$)`);
    equal(text.split("\n").filter((l) => flag.test(l)).length, 1, `--${o.name}`);
    if (o.env) ok(text.includes(o.env), o.env);
  }
  let at = 0;
  for (const [title] of GROUPS) {
    const i = text.indexOf(`\n${title}:\n`);
    ok(i > at, `group "${title}" missing or out of order`);
    at = i;
  }
  ok(!text.includes("Other options:"), "an option without a group");
  for (const [names] of CREDENTIALS) ok(text.includes(names), names);
  ok(text.includes("Examples:\n"));
  ok(text.includes("SENTINEL_API_TOKEN") && text.includes("AWS_SECRET_ACCESS_KEY"));
  ok(text.includes("TRACKER_HTTP_TOKEN"));
});

Deno.test("help: an option no group names is still shown (under Other options)", () => {
  const extra = { name: "new-thing", type: "boolean" as const, help: "Brand new." };
  const text = helpText("1.2.3", SUBS, 100, [...OPTIONS, extra]);
  ok(/Other options:\n {6}--new-thing +Brand new\./.test(text), text);
});

Deno.test("help: a subcommand's page lists its own options only", () => {
  const text = subcommandHelpText(SUBS[0]!, 80);
  ok(text.startsWith("resource-tracker host — Print the host facts as JSON.\n"));
  ok(text.includes("  resource-tracker host [OPTIONS]"));
  ok(text.includes("--procfs DIR") && text.includes("--no-gpu") && text.includes("--help"));
  ok(!text.includes("--interval"));
});

Deno.test("helpWidth: the terminal's columns, else COLUMNS, else 100; between 40 and 100", () => {
  const tty = { isTerminal: () => true }, pipe = { isTerminal: () => false };
  const env = (v?: string) => (n: string) => n === "COLUMNS" ? v : undefined;
  equal(helpWidth(tty, () => ({ columns: 72 }), env()), 72);
  equal(helpWidth(tty, () => ({ columns: 250 }), env()), 100);
  equal(helpWidth(tty, () => ({ columns: 20 }), env()), 40);
  equal(helpWidth(pipe, () => ({ columns: 72 }), env()), 100);
  equal(helpWidth(pipe, () => ({ columns: 72 }), env("64")), 64);
  equal(helpWidth(pipe, () => ({ columns: 72 }), env("wide")), 100);
  equal(
    helpWidth(tty, () => {
      throw new Error("no console");
    }, env()),
    100,
  );
});
