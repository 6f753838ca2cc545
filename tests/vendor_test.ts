/** The dashboard's inlined uPlot is exactly the npm package pinned in deno.json. */
import { equal } from "node:assert/strict";
import { generate, TARGET } from "../scripts/vendor_uplot.ts";

Deno.test("serve/assets/uplot.ts is generated from the pinned npm uplot (scripts/vendor_uplot.ts --write)", async () => {
  equal(await Deno.readTextFile(TARGET), await generate());
});
