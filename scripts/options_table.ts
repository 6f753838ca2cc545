/**
 * The README's option table, generated from the registry so the docs cannot drift:
 *   deno run -A scripts/options_table.ts          print it
 *   deno run -A scripts/options_table.ts --write  replace it in README.md
 */
import { OPTIONS } from "../cli/options.ts";

export const START = "<!-- options:start -->";
export const END = "<!-- options:end -->";

export function optionsTable(): string {
  const rows = OPTIONS.map((o) => {
    const flag = `${o.short ? `\`-${o.short}\`, ` : ""}\`--${o.name}${
      o.metavar ? ` ${o.metavar}` : ""
    }\``;
    const toml = o.toml?.length ? o.toml.map((k) => `\`${k}\``).join(", ") : "—";
    const def = o.default === undefined ? "—" : `\`${o.default}\``;
    return `| ${flag} | ${o.env ? `\`${o.env}\`` : "—"} | ${toml} | ${def} | ${o.help} |`;
  });
  return ["| flag | environment | TOML key | default | meaning |", "|---|---|---|---|---|", ...rows]
    .join("\n");
}

if (import.meta.main) {
  const table = optionsTable();
  if (!Deno.args.includes("--write")) {
    console.log(table);
  } else {
    const readme = new URL("../README.md", import.meta.url);
    const text = Deno.readTextFileSync(readme);
    const a = text.indexOf(START), b = text.indexOf(END);
    if (a < 0 || b < a) throw new Error("README.md has no options markers");
    Deno.writeTextFileSync(
      readme,
      `${text.slice(0, a + START.length)}\n${table}\n${text.slice(b)}`,
    );
  }
}
