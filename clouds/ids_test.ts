import { deepStrictEqual } from "node:assert/strict";
import { PROVIDER_IDS } from "./ids.ts";
import { PROBES } from "./mod.ts";

Deno.test("PROVIDER_IDS lists the PROBES registry, in order", () => {
  deepStrictEqual([...PROVIDER_IDS], PROBES.map((p) => p.id));
});
