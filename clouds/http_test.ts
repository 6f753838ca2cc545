import { clean, dropLastDashPart, lastSegment, parseJson, ProbeError } from "./http.ts";
import { assert, assertEquals } from "./testing/assert.ts";
import { serve, text } from "./testing/fake.ts";

Deno.test("clean: identifier-like values only", () => {
  const table: [unknown, string | null][] = [
    ["m5a.large", "m5a.large"],
    ["  eu-central-1\n", "eu-central-1"],
    ["Standard_D2s_v3", "Standard_D2s_v3"],
    ["ocid1.tenancy.oc1..aaaa", "ocid1.tenancy.oc1..aaaa"],
    ["kWVD:US-ASHBURN-AD-1", "kWVD:US-ASHBURN-AD-1"],
    [123456789012, "123456789012"],
    ["", null],
    ["unknown", null],
    ["UNKNOWN", null],
    ["two words", null],
    ["<html>", null],
    ['{"a":1}', null],
    ["x".repeat(200), null],
    [null, null],
    [undefined, null],
    [{}, null],
  ];
  for (const [input, want] of table) assertEquals(clean(input), want, String(input));
});

Deno.test("zone and path helpers", () => {
  assertEquals(dropLastDashPart("us-central1-a"), "us-central1");
  assertEquals(dropLastDashPart("fr-par-1"), "fr-par");
  assertEquals(dropLastDashPart("nodash"), "nodash");
  assertEquals(lastSegment("projects/1/zones/europe-west4-b"), "europe-west4-b");
  assertEquals(lastSegment("plain"), "plain");
});

Deno.test("parseJson never quotes the body", () => {
  try {
    parseJson('{"Token": "SECRET', "/x");
    throw new Error("no error");
  } catch (err) {
    assert(err instanceof ProbeError, "not a ProbeError");
    assertEquals(err.message, "malformed JSON from /x");
  }
});

Deno.test("directFetch ignores HTTP_PROXY (checked in a child process)", async () => {
  const proxy = serve(() => text("VIA-PROXY"));
  const target = serve(() => text("DIRECT"));
  try {
    const mod = new URL("./http.ts", import.meta.url).href;
    const code = `const { directFetch } = await import(${JSON.stringify(mod)});
      const r = await directFetch(${JSON.stringify(target.url + "/x")});
      console.log(await r.text());
      const p = await fetch(${JSON.stringify(target.url + "/x")});
      console.log(await p.text());`;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", code],
      env: { HTTP_PROXY: proxy.url, http_proxy: proxy.url, NO_PROXY: "", no_proxy: "" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
    assertEquals(lines, ["DIRECT", "VIA-PROXY"], new TextDecoder().decode(out.stderr));
  } finally {
    await Promise.all([proxy.close(), target.close()]);
  }
});
