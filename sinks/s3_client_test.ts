/**
 * SigV4 vectors, checked against both signers: aws4fetch as the tracker calls it (`signS3`) and
 * the independent step-by-step one the S3 fake verifies with (tests/fakes/sigv4.ts).
 */
import { deepStrictEqual, match, strictEqual } from "node:assert/strict";
import { amzDate, sha256Hex as fakeSha, sign, signingKey } from "../tests/fakes/sigv4.ts";
import { encodeS3Path, sha256Hex, signS3 } from "./s3_client.ts";

const ACCESS = "AKIAIOSFODNN7EXAMPLE";
const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

interface Vector {
  url: string;
  body: string;
  amzDate: string;
  region: string;
  token?: string;
}

/** Signs `v` both ways; the two authorization headers must be equal. */
async function both(v: Vector) {
  const url = new URL(v.url);
  const credentials = {
    accessKeyId: ACCESS,
    secretAccessKey: SECRET,
    ...(v.token ? { sessionToken: v.token } : {}),
  };
  const payloadHash = await sha256Hex(v.body);
  const ours = await signS3({
    method: "PUT",
    url: v.url,
    payloadHash,
    region: v.region,
    credentials,
    amzDate: v.amzDate,
  });
  const fake = sign({
    method: "PUT",
    host: url.host,
    path: url.pathname,
    payloadHash,
    amzDate: v.amzDate,
    region: v.region,
    credentials,
  });
  deepStrictEqual(ours, fake.headers, "aws4fetch and the fake's signer agree");
  return { headers: ours, fake };
}

Deno.test("sigv4: vector A (R golden inputs, empty body)", async () => {
  const { headers, fake } = await both({
    url: "https://examplebucket.s3.us-east-1.amazonaws.com/test/object.csv.gz",
    body: "",
    amzDate: "20130524T000000Z",
    region: "us-east-1",
    token: "AQoDYXdzEJr//////////token",
  });
  strictEqual(
    fakeSha(fake.canonicalRequest),
    "675be3b8117cca8eb778bc35df7b7e6e5f50c0bc8eed6280ae5539e5fc0b8448",
  );
  strictEqual(
    hex(signingKey(SECRET, "20130524", "us-east-1")),
    "dbb893acc010964918f1fd433add87c70e8b0db6be30c1fbeafefa5ec6ba8378",
  );
  strictEqual(
    headers["authorization"],
    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=9ac10526164cd6357068f985f3af4a5802a3e13797780c382d44d1013356e994",
  );
  strictEqual(headers["x-amz-security-token"], "AQoDYXdzEJr//////////token");
});

Deno.test("sigv4: vector B (body hello, eu-central-1)", async () => {
  const { headers, fake } = await both({
    url: "https://my-bucket.s3.eu-central-1.amazonaws.com/" +
      encodeS3Path("prefix/run-1/000000.csv.gz"),
    body: "hello",
    amzDate: amzDate(Date.UTC(2026, 3, 1, 12, 34, 56)),
    region: "eu-central-1",
    token: "FwoGZXIvYXdzEBYaDHqa0ABC123/session-token",
  });
  strictEqual(
    fakeSha(fake.canonicalRequest),
    "9bd300372fd69a41660bc1f109bceb061b4b6733d600200407cb701f9bf0ab9d",
  );
  match(
    headers["authorization"]!,
    /Signature=720dc08085b6d881e2b55bcdbf6b637363f78a9e54d21b3557efa5d6dbe693ec$/,
  );
});

Deno.test("sigv4: signing key for 20260326 us-east-1", () => {
  strictEqual(
    hex(signingKey(SECRET, "20260326", "us-east-1")),
    "5c351a35eae651d65c9772863936ddbdb01f57476edd670d32318609ff90c419",
  );
});

Deno.test("sigv4: dates and hashes from the reference tests", async () => {
  strictEqual(amzDate(1369353600_000), "20130524T000000Z");
  strictEqual(amzDate(1775046896_000), "20260401T123456Z");
  const hello = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
  strictEqual(await sha256Hex("hello"), hello);
  strictEqual(await sha256Hex(new TextEncoder().encode("hello")), hello);
  strictEqual(fakeSha("hello"), hello);
});

Deno.test("sigv4: static keys sign three headers and send no token", async () => {
  const { headers, fake } = await both({
    url: "http://127.0.0.1:9000/bucket/a%20b/c.csv.gz",
    body: "",
    amzDate: "20130524T000000Z",
    region: "us-east-1",
  });
  match(headers["authorization"]!, /SignedHeaders=host;x-amz-content-sha256;x-amz-date,/);
  strictEqual(headers["x-amz-security-token"], undefined);
  match(fake.canonicalRequest, /^PUT\n\/bucket\/a%20b\/c.csv.gz\n\nhost:127.0.0.1:9000\n/);
});

Deno.test("sigv4: keys S3 needs encoded sign the same both ways", async () => {
  for (const key of ["a b/c+d/e~f_g.h-i/(j)*!'", "ü/ß/€.csv.gz", "x/%41/y=z&w"]) {
    for (const token of [undefined, "tok/en+=="]) {
      await both({
        url: `http://localhost:4566/base/bucket/${encodeS3Path(key)}`,
        body: key,
        amzDate: "20260401T123456Z",
        region: "ap-southeast-2",
        ...(token ? { token } : {}),
      });
    }
  }
});

Deno.test("sigv4: path encoding keeps slashes and unreserved characters", () => {
  strictEqual(encodeS3Path("a b/c+d/e~f_g.h-i/(j)"), "a%20b/c%2Bd/e~f_g.h-i/%28j%29");
});
