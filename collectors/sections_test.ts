import { deepStrictEqual, ok } from "node:assert/strict";
import { SECTIONS } from "./sections.ts";

const FIXTURE = new URL("../tests/fixtures/vm-basic/", import.meta.url).pathname;
const roots = { proc: `${FIXTURE}proc`, sys: `${FIXTURE}sys`, root: `${FIXTURE}root` };

Deno.test("sections: the wire order after cpu, each reads the recorded tree and derives", () => {
  const sections = SECTIONS.map((make) => make(roots));
  deepStrictEqual(sections.map((s) => s.key), ["memory", "network", "disk"]);
  for (const s of sections) {
    const first = s.read();
    ok(first !== undefined, `${s.key}: nothing read from the fixture`);
    const baseline = s.derive(undefined, first, 0);
    const next = s.derive(first, s.read()!, 1);
    // Same counters twice: rates are zero, and the shape is the schema's.
    deepStrictEqual(typeof next, typeof s.empty);
    deepStrictEqual(Array.isArray(next), Array.isArray(s.empty));
    if (Array.isArray(next)) {
      ok(next.length > 0, `${s.key}: no entry`);
      deepStrictEqual(next.length, (baseline as unknown[]).length);
    }
  }
});

Deno.test("sections: an absent source reads undefined, so the sample holds `empty`", () => {
  const missing = { proc: "/nonexistent/proc", sys: "/nonexistent/sys", root: "/nonexistent" };
  for (const s of SECTIONS.map((make) => make(missing))) {
    deepStrictEqual(s.read(), undefined, s.key);
  }
});
