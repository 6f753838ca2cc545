import { strictEqual, throws } from "node:assert/strict";
import { parseSize, SINK_OPTIONS } from "./options.ts";

Deno.test("options: sizes with binary units", () => {
  strictEqual(parseSize("10M"), 10 * 1024 * 1024);
  strictEqual(parseSize("1g"), 1 << 30);
  strictEqual(parseSize("512KiB"), 512 * 1024);
  strictEqual(parseSize(8192), 8192);
  for (const bad of ["", "10X", "-1M", "100", "1.5.2M"]) {
    throws(() => parseSize(bad), /expected a size/);
  }
});

Deno.test("options: checks reject bad values with a plain message", () => {
  const opt = (n: string) => SINK_OPTIONS.find((o) => o.name === n)!;
  strictEqual(opt("upload-interval").check!("0.5"), 0.5);
  throws(() => opt("upload-interval").check!("0"), /expected seconds >= 0.1/);
  strictEqual(opt("flush-timeout").check!("0"), 0);
  throws(() => opt("max-files").check!("-1"), /whole number/);
  throws(() => opt("http-token-env").check!("MY-TOKEN"), /environment variable name/);
  strictEqual(opt("sink").type, "strings");
});
