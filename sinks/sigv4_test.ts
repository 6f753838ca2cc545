import { match, strictEqual } from "node:assert/strict";
import { amzDate, encodeS3Path, sha256Hex, sign, signingKey } from "./sigv4.ts";

const ACCESS = "AKIAIOSFODNN7EXAMPLE";
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("sigv4: vector A (R golden inputs, empty body)", () => {
  const s = sign({
    method: "PUT",
    host: "examplebucket.s3.us-east-1.amazonaws.com",
    path: "/test/object.csv.gz",
    payloadHash: sha256Hex(""),
    amzDate: "20130524T000000Z",
    region: "us-east-1",
    credentials: {
      accessKeyId: ACCESS,
      secretAccessKey: SECRET,
      sessionToken: "AQoDYXdzEJr//////////token",
    },
  });
  strictEqual(
    sha256Hex(s.canonicalRequest),
    "675be3b8117cca8eb778bc35df7b7e6e5f50c0bc8eed6280ae5539e5fc0b8448",
  );
  strictEqual(
    hex(signingKey(SECRET, "20130524", "us-east-1")),
    "dbb893acc010964918f1fd433add87c70e8b0db6be30c1fbeafefa5ec6ba8378",
  );
  strictEqual(s.signature, "9ac10526164cd6357068f985f3af4a5802a3e13797780c382d44d1013356e994");
  strictEqual(
    s.headers["authorization"],
    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=9ac10526164cd6357068f985f3af4a5802a3e13797780c382d44d1013356e994",
  );
});

Deno.test("sigv4: vector B (body hello, eu-central-1)", () => {
  const s = sign({
    method: "PUT",
    host: "my-bucket.s3.eu-central-1.amazonaws.com",
    path: "/" + encodeS3Path("prefix/run-1/000000.csv.gz"),
    payloadHash: sha256Hex("hello"),
    amzDate: amzDate(Date.UTC(2026, 3, 1, 12, 34, 56)),
    region: "eu-central-1",
    credentials: {
      accessKeyId: ACCESS,
      secretAccessKey: SECRET,
      sessionToken: "FwoGZXIvYXdzEBYaDHqa0ABC123/session-token",
    },
  });
  strictEqual(
    sha256Hex(s.canonicalRequest),
    "9bd300372fd69a41660bc1f109bceb061b4b6733d600200407cb701f9bf0ab9d",
  );
  strictEqual(s.signature, "720dc08085b6d881e2b55bcdbf6b637363f78a9e54d21b3557efa5d6dbe693ec");
});

Deno.test("sigv4: signing key for 20260326 us-east-1", () => {
  strictEqual(
    hex(signingKey(SECRET, "20260326", "us-east-1")),
    "5c351a35eae651d65c9772863936ddbdb01f57476edd670d32318609ff90c419",
  );
});

Deno.test("sigv4: dates and hashes from the reference tests", () => {
  strictEqual(amzDate(1369353600_000), "20130524T000000Z");
  strictEqual(amzDate(1775046896_000), "20260401T123456Z");
  strictEqual(
    sha256Hex("hello"),
    "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
  );
});

Deno.test("sigv4: static keys sign three headers and send no token", () => {
  const s = sign({
    method: "PUT",
    host: "127.0.0.1:9000",
    path: "/bucket/a%20b/c.csv.gz",
    payloadHash: sha256Hex(""),
    amzDate: "20130524T000000Z",
    region: "us-east-1",
    credentials: { accessKeyId: ACCESS, secretAccessKey: SECRET },
  });
  match(s.headers["authorization"]!, /SignedHeaders=host;x-amz-content-sha256;x-amz-date,/);
  strictEqual(s.headers["x-amz-security-token"], undefined);
  match(s.canonicalRequest, /^PUT\n\/bucket\/a%20b\/c.csv.gz\n\nhost:127.0.0.1:9000\n/);
});

Deno.test("sigv4: path encoding keeps slashes and unreserved characters", () => {
  strictEqual(encodeS3Path("a b/c+d/e~f_g.h-i/(j)"), "a%20b/c%2Bd/e~f_g.h-i/%28j%29");
});
