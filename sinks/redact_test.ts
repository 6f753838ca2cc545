import { doesNotMatch, strictEqual } from "node:assert/strict";
import { Redactor, redactUrl } from "./redact.ts";

Deno.test("redact: registered values are masked wherever they appear", () => {
  const r = new Redactor();
  r.add("s3cr3t-token-value");
  r.add("abc"); // too short to mask safely
  strictEqual(r.apply("failed with s3cr3t-token-value in it"), "failed with *** in it");
  strictEqual(r.apply("abc"), "abc");
});

Deno.test("redact: secret shapes are masked without registration", () => {
  const r = new Redactor();
  const cases: [string, RegExp][] = [
    ["Authorization: Bearer eyJhbGciOi.x.y", /eyJ/],
    [
      "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, Signature=9ac105",
      /AKIAIOSFODNN7EXAMPLE|9ac105/,
    ],
    [
      '{"access_key":"ASIAXYZ","secret_key":"wJalr/K7","session_token":"FwoG"}',
      /ASIAXYZ|wJalr|FwoG/,
    ],
    ["x-amz-security-token: FwoGZXIvYXdzEBYa", /FwoG/],
    ["key ASIA1234567890ABCDEF leaked", /ASIA1234567890ABCDEF/],
  ];
  for (const [text, secret] of cases) doesNotMatch(r.apply(text), secret, text);
});

Deno.test("redact: wrap redacts every line it forwards", () => {
  const r = new Redactor();
  const lines: string[] = [];
  const warn = r.wrap((l) => lines.push(l));
  r.add("hunter22");
  warn("password hunter22");
  strictEqual(lines[0], "password ***");
});

Deno.test("redact: URLs lose user info, query values and fragment", () => {
  strictEqual(
    redactUrl("https://user:pw@example.com:8443/p/ingest?token=abc&x=1#format=csv"),
    "https://example.com:8443/p/ingest?token=***&x=***",
  );
  strictEqual(redactUrl("http://127.0.0.1:8080/in"), "http://127.0.0.1:8080/in");
  strictEqual(redactUrl("not a url://u:p@h/x?y"), "not a url://h/x");
});
