/**
 * The import order (docs/ARCHITECTURE.md "Layers"): every import of production code points down
 * the list below or stays inside its own folder, and no file imports itself back through a cycle.
 * Static, type-only, re-export and dynamic `import("…")` imports all count: a type-only import
 * still ties two rooms together, and a dynamic one is still an arrow in the design.
 * Test support (`tests/`, `scripts/`, `*_test.ts`, `testdata/`) stands outside the layers and may
 * import anything.
 */
import { deepStrictEqual } from "node:assert/strict";

const ROOT = new URL("..", import.meta.url).pathname;

/** Highest first. Folders on one floor never import each other. */
const FLOORS: readonly (readonly string[])[] = [
  ["main.ts", "mod.ts"],
  ["cli"],
  ["core"],
  ["serve", "live"],
  ["sinks", "clouds", "collectors"],
  ["report"],
  ["formats", "metrics"],
  ["base"],
];

function floorOf(path: string): { room: string; floor: number } | undefined {
  const room = path.includes("/") ? path.split("/")[0]! : path;
  const floor = FLOORS.findIndex((f) => f.includes(room));
  return floor < 0 ? undefined : { room, floor };
}

function isSupport(path: string): boolean {
  return /(^|\/)(tests|scripts|testdata|fixtures|testing)\//.test(path) ||
    /_(test|bench)\.ts$/.test(path);
}

function productionFiles(dir = ""): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(ROOT + (dir || "."))) {
    const path = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory && !e.name.startsWith(".") && e.name !== "node_modules") {
      out.push(...productionFiles(path));
    } else if (e.isFile && path.endsWith(".ts") && !isSupport(path + (e.isDirectory ? "/" : ""))) {
      if (floorOf(path)) out.push(path);
    }
  }
  return out;
}

/** Relative specifiers of every import form, comments removed first. */
export function importsOf(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["'`](\.{1,2}\/[^"'`]+)["'`]/g;
  return [...code.matchAll(re)].map((m) => m[1]!);
}

function resolve(from: string, spec: string): string {
  const parts = from.split("/").slice(0, -1);
  for (const p of spec.split("/")) {
    if (p === "..") parts.pop();
    else if (p !== ".") parts.push(p);
  }
  return parts.join("/");
}

function graph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const f of productionFiles()) {
    const deps = importsOf(Deno.readTextFileSync(ROOT + f)).map((s) => resolve(f, s))
      .filter((t) => t.endsWith(".ts"));
    g.set(f, deps);
  }
  return g;
}

Deno.test("importsOf sees static, type-only, re-export and dynamic imports, not comments", () => {
  deepStrictEqual(
    importsOf(`import { a } from "./a.ts";
import type { B } from "../b.ts";
export { c } from "./c.ts";
import "./d.ts";
const e = await import("./e.ts");
// import { f } from "./f.ts";
/* import { g } from "./g.ts"; */
const url = "https://example.com/x"; // from "./h.ts"
`),
    ["./a.ts", "../b.ts", "./c.ts", "./d.ts", "./e.ts"],
  );
});

Deno.test("every production import points down the floors (docs/ARCHITECTURE.md)", () => {
  const bad: string[] = [];
  for (const [file, deps] of graph()) {
    const from = floorOf(file)!;
    for (const dep of deps) {
      const to = floorOf(dep);
      if (!to) {
        if (!dep.endsWith(".json")) bad.push(`${file} -> ${dep} (not in a layer)`);
        continue;
      }
      if (isSupport(dep)) bad.push(`${file} -> ${dep} (test support)`);
      else if (to.room === from.room) continue;
      else if (to.floor <= from.floor) bad.push(`${file} -> ${dep}`);
    }
  }
  // No exceptions: an arrow against the order is fixed by moving code, not by a list.
  deepStrictEqual(bad, []);
});

Deno.test("no import cycle between production files", () => {
  const g = graph();
  const state = new Map<string, "open" | "done">();
  const cycles: string[] = [];
  const visit = (f: string, path: string[]) => {
    if (state.get(f) === "done") return;
    if (state.get(f) === "open") {
      cycles.push([...path.slice(path.indexOf(f)), f].join(" -> "));
      return;
    }
    state.set(f, "open");
    for (const d of g.get(f) ?? []) visit(d, [...path, f]);
    state.set(f, "done");
  };
  for (const f of g.keys()) visit(f, []);
  deepStrictEqual(cycles, []);
});
