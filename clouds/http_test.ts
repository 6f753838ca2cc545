import { deepStrictEqual, ok } from "node:assert/strict";
import {
  clean,
  dropLastDashPart,
  lastSegment,
  MAX_BODY_BYTES,
  metadataFetch,
  parseJson,
  ProbeError,
  UnreachableError,
} from "./http.ts";
import { blackhole } from "../tests/fakes/loopback.ts";
import { text } from "../tests/fakes/clouds/handlers.ts";
import { strictServe } from "../tests/fakes/clouds/strict.ts";

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
  for (const [input, want] of table) deepStrictEqual(clean(input), want, String(input));
});

Deno.test("zone and path helpers", () => {
  deepStrictEqual(dropLastDashPart("us-central1-a"), "us-central1");
  deepStrictEqual(dropLastDashPart("fr-par-1"), "fr-par");
  deepStrictEqual(dropLastDashPart("nodash"), "nodash");
  deepStrictEqual(lastSegment("projects/1/zones/europe-west4-b"), "europe-west4-b");
  deepStrictEqual(lastSegment("plain"), "plain");
});

Deno.test("parseJson never quotes the body", () => {
  try {
    parseJson('{"Token": "SECRET', "/x");
    throw new Error("no error");
  } catch (err) {
    ok(err instanceof ProbeError, "not a ProbeError");
    deepStrictEqual(err.message, "malformed JSON from /x");
  }
});

Deno.test("metadataFetch ignores HTTP_PROXY, HTTPS_PROXY and ALL_PROXY (child process)", async () => {
  const proxy = strictServe(() => text("VIA-PROXY"));
  const target = strictServe(() => text("DIRECT"));
  try {
    const mod = new URL("./http.ts", import.meta.url).href;
    const code = `const { metadataFetch } = await import(${JSON.stringify(mod)});
      const r = await metadataFetch(${JSON.stringify(target.url + "/x")});
      console.log(await r.text());`;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", code],
      env: {
        HTTP_PROXY: proxy.url,
        http_proxy: proxy.url,
        HTTPS_PROXY: proxy.url,
        ALL_PROXY: proxy.url,
        all_proxy: proxy.url,
        NO_PROXY: "",
        no_proxy: "",
      },
      stdout: "piped",
      stderr: "piped",
    }).output();
    deepStrictEqual(
      new TextDecoder().decode(out.stdout).trim(),
      "DIRECT",
      new TextDecoder().decode(out.stderr),
    );
    deepStrictEqual(proxy.requests.length, 0, "the proxy saw a request");
    deepStrictEqual(target.requests.map((r) => r.line), ["GET /x HTTP/1.1"]);
  } finally {
    await Promise.all([proxy.close(), target.close()]);
  }
});

Deno.test("metadataFetch: origin form with Host, headers passed, PUT with Content-Length: 0", async () => {
  const seen: [string, string | null, string | null][] = [];
  const srv = strictServe((req, url) => {
    seen.push([`${req.method} ${url.pathname}${url.search}`, req.headers.get("x-probe"), null]);
    return text("ok");
  });
  try {
    const r = await metadataFetch(`${srv.url}/a/b?c=1`, { headers: { "X-Probe": "yes" } });
    deepStrictEqual([r.status, await r.text()], [200, "ok"]);
    const p = await metadataFetch(`${srv.url}/token`, { method: "PUT" });
    deepStrictEqual(p.status, 200);
    await p.body?.cancel();
    deepStrictEqual(srv.requests.map((q) => q.line), [
      "GET /a/b?c=1 HTTP/1.1",
      "PUT /token HTTP/1.1",
    ]);
    deepStrictEqual(srv.requests[0]!.host, new URL(srv.url).host);
    deepStrictEqual(seen[0]!.slice(0, 2), ["GET /a/b?c=1", "yes"]);
  } finally {
    await srv.close();
  }
});

Deno.test("metadataFetch: redirects are returned, not followed", async () => {
  const srv = strictServe((_req, url) =>
    url.pathname === "/start"
      ? new Response(null, { status: 302, headers: { location: "/elsewhere" } })
      : text("followed")
  );
  try {
    const r = await metadataFetch(`${srv.url}/start`);
    deepStrictEqual([r.status, r.headers.get("location")], [302, "/elsewhere"]);
    await r.body?.cancel();
    deepStrictEqual(srv.hits, ["GET /start"]);
  } finally {
    await srv.close();
  }
});

Deno.test("metadataFetch: a body over the limit is refused, with or without Content-Length", async () => {
  for (const chunked of [false, true]) {
    const srv = strictServe(() => text("x".repeat(MAX_BODY_BYTES + 1)), { chunked });
    try {
      let err: unknown;
      await metadataFetch(`${srv.url}/big`).catch((e) => (err = e));
      ok(err instanceof ProbeError, `chunked=${chunked}: ${err}`);
    } finally {
      await srv.close();
    }
  }
});

Deno.test("metadataFetch: abort closes the socket of a silent server", async () => {
  const hole = blackhole();
  try {
    const t0 = performance.now();
    let err: unknown;
    await metadataFetch(`${hole.url}/x`, { signal: AbortSignal.timeout(200) }).catch((e) =>
      err = e
    );
    ok(err !== undefined, "no error");
    ok(performance.now() - t0 < 5000, "abort did not end the request");
  } finally {
    await hole.close();
  }
});

Deno.test("metadataFetch: a server that is not HTTP is unreachable, not an answer", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const task = (async () => {
    const c = await l.accept();
    await c.write(new TextEncoder().encode("SSH-2.0-OpenSSH_9.6\r\n"));
    c.close();
  })();
  try {
    let err: unknown;
    await metadataFetch(`http://127.0.0.1:${(l.addr as Deno.NetAddr).port}/`).catch((e) => err = e);
    ok(err instanceof UnreachableError, String(err));
  } finally {
    await task;
    l.close();
  }
});

Deno.test("the strict test server rejects absolute-form targets and a missing Host with 400", async () => {
  const srv = strictServe(() => text("served"));
  const port = Number(new URL(srv.url).port);
  const ask = async (raw: string) => {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    await c.write(new TextEncoder().encode(raw));
    const buf = new Uint8Array(4096);
    let out = "";
    for (let n; (n = await c.read(buf)) !== null;) {
      out += new TextDecoder().decode(buf.subarray(0, n));
    }
    c.close();
    return out.split("\r\n")[0];
  };
  try {
    deepStrictEqual(
      await ask(`GET http://127.0.0.1:${port}/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`),
      "HTTP/1.1 400 Bad Request",
    );
    deepStrictEqual(await ask("GET /x HTTP/1.1\r\n\r\n"), "HTTP/1.1 400 Bad Request");
    deepStrictEqual(await ask("GET /x HTTP/1.1\r\nHost: a\r\n\r\n"), "HTTP/1.1 200 OK");
    deepStrictEqual(srv.rejected.length, 2);
  } finally {
    await srv.close();
  }
});
