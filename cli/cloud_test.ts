import { runCloudCommand } from "./cloud.ts";
import { assertEquals } from "../clouds/testdata/assert.ts";
import { dmiRoot, forbiddenFetch, loopbackEnv, loopbackFetch } from "../clouds/testdata/env.ts";
import { refusedUrl, serve } from "../clouds/testdata/fake.ts";
import { CASES } from "../clouds/testdata/providers.ts";

Deno.test("cloud command: --no-cloud prints the disabled discovery and exits 0", async () => {
  const lines: string[] = [];
  const code = await runCloudCommand(
    { sys: "/nonexistent", env: () => undefined, disabled: true, fetch: forbiddenFetch },
    (l) => lines.push(l),
  );
  assertEquals(code, 0);
  const parsed = JSON.parse(lines.join("\n"));
  assertEquals(parsed.source, "disabled");
  assertEquals(lines[0], "{");
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
    assertEquals(code, 0);
    const d = JSON.parse(lines.join("\n"));
    assertEquals(d.info, hetzner.expected);
    assertEquals([d.source, d.candidates, d.dmi.sys_vendor, d.errors], [
      "dmi+metadata",
      ["hcloud"],
      "Hetzner",
      [],
    ]);
    assertEquals(typeof d.elapsed_ms, "number");
  } finally {
    await fake.close();
  }
});
