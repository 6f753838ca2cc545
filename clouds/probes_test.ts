/**
 * Contract suite every probe runs against loopback fakes: the realistic answer, 404s, refused
 * and silent endpoints, slow and failing servers, malformed bodies, no cross-talk with other
 * providers' services, and its DMI fingerprint.
 */
import { deepStrictEqual, ok } from "node:assert/strict";
import { readDmi } from "./dmi.ts";
import { ProbeError } from "./http.ts";
import { PROBES } from "./mod.ts";
import { dmiRoot, loopbackFetch } from "../tests/fakes/clouds/env.ts";
import { blackhole, type Loopback, refusedUrl, serve } from "../tests/fakes/loopback.ts";
import { always, hang, notFound, slow, text } from "../tests/fakes/clouds/handlers.ts";
import {
  aliyunMetadata,
  awsImds,
  azureImds,
  CASES,
  DIGITALOCEAN_DOC,
  gcpMetadata,
  linodeMetadata,
  openstackMetadata,
  oracleImds,
  pathJson,
} from "../tests/fakes/clouds/providers.ts";
import { strictServe } from "../tests/fakes/clouds/strict.ts";
import type { CloudInfo, CloudProbe } from "./types.ts";
import { USER_AGENT } from "../base/user_agent.ts";
import { errorText } from "../base/errors.ts";

const REQUEST_MS = 400;
const SECRET = "SECRET-BODY-MARKER";

/** Runs one probe against `baseUrl` with a 400 ms request limit and a 3 s safety stop. */
async function run(
  probe: CloudProbe,
  baseUrl: string,
): Promise<{ info?: CloudInfo; error?: unknown; ms: number }> {
  const t0 = performance.now();
  try {
    const info = await probe.lookup({
      baseUrl,
      fetch: loopbackFetch,
      signal: AbortSignal.timeout(3000),
      requestTimeoutMs: REQUEST_MS,
    });
    return info === undefined
      ? { ms: performance.now() - t0 }
      : { info, ms: performance.now() - t0 };
  } catch (error) {
    return { error, ms: performance.now() - t0 };
  }
}

async function withFake<T>(fake: Loopback, fn: (f: Loopback) => Promise<T>): Promise<T> {
  try {
    return await fn(fake);
  } finally {
    await fake.close();
  }
}

/** "Not this cloud" or "broken", never an answer; a broken one has a short, body-free line. */
function assertNoAnswer(r: { info?: CloudInfo; error?: unknown }, what: string): void {
  ok(r.info === undefined, `${what}: unexpected answer ${JSON.stringify(r.info)}`);
  if (r.error !== undefined) {
    const msg = errorText(r.error);
    ok(r.error instanceof ProbeError, `${what}: unexpected error type: ${msg}`);
    ok(!msg.includes(SECRET) && !msg.includes("\n"), `${what}: bad message ${msg}`);
  }
}

for (const c of CASES) {
  const id = c.probe.id;

  Deno.test(`${id}: realistic metadata gives the expected fields`, async () => {
    await withFake(serve(c.handler), async (f) => {
      const r = await run(c.probe, f.url);
      if (r.error !== undefined) throw r.error;
      // Entries, not objects: the key order is what `resource-tracker cloud` prints.
      deepStrictEqual(Object.entries(r.info ?? {}), Object.entries(c.expected));
    });
  });

  Deno.test(`${id}: identified by a strict origin server (origin form, Host, our User-Agent)`, async () => {
    for (const chunked of [false, true]) {
      const srv = strictServe(c.handler, { chunked });
      await withFake(srv, async (f) => {
        const r = await run(c.probe, f.url);
        if (r.error !== undefined) throw r.error;
        deepStrictEqual(
          Object.entries(r.info ?? {}),
          Object.entries(c.expected),
          `chunked=${chunked}`,
        );
        deepStrictEqual(srv.rejected, []);
        for (const q of srv.requests) {
          ok(/^(GET|PUT) \/\S* HTTP\/1\.1$/.test(q.line), `request line ${q.line}`);
          deepStrictEqual(q.host, new URL(f.url).host);
          deepStrictEqual(q.userAgent, USER_AGENT);
        }
      });
    }
  });

  Deno.test(`${id}: 404 everywhere is not this cloud`, async () => {
    await withFake(serve(notFound), async (f) => {
      const r = await run(c.probe, f.url);
      deepStrictEqual(r, { ms: r.ms }, `${id} on a 404 server`);
    });
  });

  Deno.test(`${id}: connection refused is not this cloud`, async () => {
    const r = await run(c.probe, refusedUrl());
    deepStrictEqual(r, { ms: r.ms }, `${id} on a closed port`);
  });

  Deno.test(`${id}: silent, hanging and slow servers give no answer, bounded by timeouts`, async () => {
    // Run side by side: each waits for request timeouts.
    await Promise.all([
      withFake(blackhole(), async (f) => {
        const r = await run(c.probe, f.url);
        deepStrictEqual(r, { ms: r.ms }, `${id} on a black hole`);
        // At most two sequential identification requests of 400 ms each.
        ok(r.ms < 2000, `${id} took ${r.ms} ms`);
      }),
      withFake(serve(hang), async (f) => {
        assertNoAnswer(await run(c.probe, f.url), `${id} on a hanging server`);
      }),
      withFake(serve(slow(REQUEST_MS * 3, c.handler)), async (f) => {
        assertNoAnswer(await run(c.probe, f.url), `${id} on a slow server`);
      }),
    ]);
  });

  Deno.test(`${id}: HTTP 500 everywhere gives no answer and no body in errors`, async () => {
    await withFake(serve(always(500, `{"error":"${SECRET}"}`)), async (f) => {
      assertNoAnswer(await run(c.probe, f.url), `${id} on a 500 server`);
    });
  });

  Deno.test(`${id}: malformed bodies on every path give no answer`, async () => {
    await withFake(serve(always(200, `{not json ${SECRET}`)), async (f) => {
      assertNoAnswer(await run(c.probe, f.url), `${id} on a garbage server`);
    });
  });

  Deno.test(`${id}: other providers' services do not fool it`, async () => {
    for (const other of CASES) {
      if (other.probe.id === id) continue;
      // Providers that share an address layout answer for themselves only.
      await withFake(serve(other.handler), async (f) => {
        assertNoAnswer(await run(c.probe, f.url), `${id} against ${other.probe.id}'s service`);
      });
    }
  });

  Deno.test(`${id}: DMI fingerprint`, () => {
    for (const probe of PROBES) {
      for (const other of CASES) {
        if (other.dmi === null) continue;
        const match = probe.dmi(readDmi(dmiRoot(other.dmi)));
        const want = probe.id === other.probe.id;
        ok(
          (match !== undefined) === want,
          `${probe.id} on DMI ${other.dmi}: ${match === undefined ? "no match" : match.evidence}`,
        );
      }
    }
    if (c.dmi === null) return;
    ok(c.probe.dmi(readDmi(dmiRoot(c.dmi))) !== undefined, `${id} misses its DMI`);
  });
}

// ---- provider specifics ----------------------------------------------------------------

const aws = PROBES.find((p) => p.id === "aws")!;

Deno.test("aws: IMDSv1 fallback when the token PUT gets no answer (hop limit 1)", async () => {
  await withFake(serve(awsImds({ v1: true, tokenRoute: hang })), async (f) => {
    const r = await run(aws, f.url);
    deepStrictEqual(r.info?.cloud_account_id, "123456789012");
    deepStrictEqual(r.info?.cloud_instance_type, "m5a.large");
  });
});

Deno.test("aws: IMDSv1 fallback when the token endpoint refuses", async () => {
  await withFake(serve(awsImds({ v1: true, tokenRoute: () => text("", 403) })), async (f) => {
    deepStrictEqual((await run(aws, f.url)).info?.cloud_region_id, "eu-central-1");
  });
});

Deno.test("aws: an EC2-compatible clone without amazonaws.com is not AWS", async () => {
  await withFake(serve(awsImds({ domain: "example.com" })), async (f) => {
    deepStrictEqual(await run(aws, f.url).then((r) => r.info), undefined);
  });
  await withFake(serve(openstackMetadata()), async (f) => {
    deepStrictEqual(await run(aws, f.url).then((r) => r.info), undefined);
  });
});

Deno.test("aws: broken token endpoint with IMDSv1 disabled is broken", async () => {
  const handler = awsImds({ tokenRoute: () => text(SECRET, 500) });
  await withFake(serve(handler), async (f) => {
    const r = await run(aws, f.url);
    ok(r.error instanceof ProbeError, "expected a ProbeError");
    deepStrictEqual(
      (r.error as Error).message,
      "HTTP 500 from /latest/api/token; IMDSv1 is disabled (HTTP 401)",
    );
  });
});

Deno.test("aws: account id falls back to the identity document", async () => {
  const handler = awsImds({
    overrides: { "/latest/meta-data/identity-credentials/ec2/info": notFound },
  });
  await withFake(serve(handler), async (f) => {
    deepStrictEqual((await run(aws, f.url)).info?.cloud_account_id, "123456789012");
  });
});

Deno.test("aws: account id document that is not JSON is reported without its body", async () => {
  const handler = awsImds({
    overrides: {
      "/latest/meta-data/identity-credentials/ec2/info": () => text(`AccountId ${SECRET}`),
    },
  });
  await withFake(serve(handler), async (f) => {
    const r = await run(aws, f.url);
    deepStrictEqual(
      (r.error as Error).message,
      "malformed JSON from identity-credentials/ec2/info",
    );
  });
});

Deno.test("aws: a field answering 500 is broken", async () => {
  const handler = awsImds({
    overrides: { "/latest/meta-data/instance-type": () => text(SECRET, 500) },
  });
  await withFake(serve(handler), async (f) => {
    const r = await run(aws, f.url);
    deepStrictEqual((r.error as Error).message, "HTTP 500 from /latest/meta-data/instance-type");
  });
});

Deno.test("aws: region derived from the zone when placement/region is missing", async () => {
  const handler = awsImds({ overrides: { "/latest/meta-data/placement/region": notFound } });
  await withFake(serve(handler), async (f) => {
    deepStrictEqual((await run(aws, f.url)).info?.cloud_region_id, "eu-central-1");
  });
});

Deno.test("gcp: answers without the Metadata-Flavor echo are not GCP", async () => {
  const gcp = PROBES.find((p) => p.id === "gcp")!;
  await withFake(serve(gcpMetadata(false)), async (f) => {
    deepStrictEqual((await run(gcp, f.url)).info, undefined);
  });
});

Deno.test("azure: JSON without compute is not Azure; malformed JSON is broken", async () => {
  const azure = PROBES.find((p) => p.id === "azure")!;
  await withFake(serve(azureImds({ network: {} })), async (f) => {
    deepStrictEqual((await run(azure, f.url)).info, undefined);
  });
  await withFake(serve(azureImds(`{"compute": ${SECRET}`)), async (f) => {
    const r = await run(azure, f.url);
    deepStrictEqual((r.error as Error).message, "malformed JSON from /metadata/instance");
  });
});

Deno.test("upcloud: DigitalOcean's v1.json is not UpCloud, and the other way round", async () => {
  const upcloud = PROBES.find((p) => p.id === "upcloud")!;
  const digitalocean = PROBES.find((p) => p.id === "digitalocean")!;
  await withFake(serve(pathJson("/metadata/v1.json", DIGITALOCEAN_DOC)), async (f) => {
    deepStrictEqual((await run(upcloud, f.url)).info, undefined);
    deepStrictEqual((await run(digitalocean, f.url)).info?.cloud_region_id, "nyc3");
  });
});

Deno.test("ovh: OpenStack without the OVH resolver is not OVH", async () => {
  const ovh = PROBES.find((p) => p.id === "ovh")!;
  await withFake(serve(openstackMetadata({ dns: "10.0.0.2" })), async (f) => {
    deepStrictEqual((await run(ovh, f.url)).info, undefined);
  });
});

Deno.test("ovh: the OpenStack placeholder zone `nova` is no region", async () => {
  const ovh = PROBES.find((p) => p.id === "ovh")!;
  await withFake(serve(openstackMetadata({ az: "nova" })), async (f) => {
    const r = await run(ovh, f.url);
    deepStrictEqual(r.info?.cloud_vendor_id, "ovh");
    deepStrictEqual(r.info?.cloud_region_id, null);
  });
});

Deno.test("oracle: IMDS v1 when v2 is not offered", async () => {
  const oracle = PROBES.find((p) => p.id === "oracle")!;
  await withFake(serve(oracleImds({ v2: false })), async (f) => {
    deepStrictEqual((await run(oracle, f.url)).info?.cloud_instance_type, "VM.Standard.E4.Flex");
  });
});

Deno.test("linode: token endpoint failing with 500 is broken, 404 is not Linode", async () => {
  const linode = PROBES.find((p) => p.id === "linode")!;
  await withFake(serve(linodeMetadata({ tokenRoute: () => text(SECRET, 500) })), async (f) => {
    deepStrictEqual(((await run(linode, f.url)).error as Error).message, "HTTP 500 from /v1/token");
  });
  await withFake(serve(linodeMetadata({ tokenRoute: notFound })), async (f) => {
    const r = await run(linode, f.url);
    deepStrictEqual([r.info, r.error], [undefined, undefined]);
  });
});

Deno.test("alicloud: plain mode when the token endpoint is absent", async () => {
  const ali = PROBES.find((p) => p.id === "alicloud")!;
  const handler = aliyunMetadata({ hardened: false, tokenRoute: notFound });
  await withFake(serve(handler), async (f) => {
    deepStrictEqual((await run(ali, f.url)).info?.cloud_instance_type, "ecs.g6.large");
  });
});

Deno.test("probe answers are identifier-like values only", async () => {
  const hcloud = PROBES.find((p) => p.id === "hcloud")!;
  const body = "instance-id: 1\nregion: <html>oops</html>\navailability-zone: fsn1 dc14\n";
  await withFake(serve(() => text(body)), async (f) => {
    const r = await run(hcloud, f.url);
    deepStrictEqual(r.info?.cloud_region_id, null);
    deepStrictEqual(r.info?.cloud_zone_id, null);
  });
});
