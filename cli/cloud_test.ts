import { deepStrictEqual } from "node:assert/strict";
import { runCloudCommand } from "./cloud.ts";
import { dmiRoot, forbiddenFetch, loopbackEnv, loopbackFetch } from "../tests/fakes/clouds/env.ts";
import { refusedUrl, serve } from "../tests/fakes/loopback.ts";
import { CASES } from "../tests/fakes/clouds/providers.ts";

Deno.test("cloud command: --no-cloud prints the disabled discovery and exits 0", async () => {
  const lines: string[] = [];
  const code = await runCloudCommand(
    { sys: "/nonexistent", env: () => undefined, disabled: true, fetch: forbiddenFetch },
    (l) => lines.push(l),
  );
  deepStrictEqual(code, 0);
  const parsed = JSON.parse(lines.join("\n"));
  deepStrictEqual(parsed.source, "disabled");
  deepStrictEqual(lines[0], "{");
});

Deno.test("cloud command: prints info, source, DMI evidence and candidates", async () => {
  const hetzner = CASES.find((c) => c.probe.id === "hcloud")!;
  const fake = serve(hetzner.handler);
  try {
    const lines: string[] = [];
    const code = await runCloudCommand({
      sys: dmiRoot("hetzner"),
      env: loopbackEnv(refusedUrl(), { hcloud: fake.url }),
      fetch: loopbackFetch,
    }, (l) => lines.push(l));
    deepStrictEqual(code, 0);
    const d = JSON.parse(lines.join("\n"));
    deepStrictEqual(Object.entries(d.info), Object.entries(hetzner.expected)); // the printed order
    deepStrictEqual([d.source, d.candidates, d.dmi.sys_vendor, d.errors], [
      "dmi+metadata",
      ["hcloud"],
      "Hetzner",
      [],
    ]);
    deepStrictEqual(typeof d.elapsed_ms, "number");
  } finally {
    await fake.close();
  }
});
