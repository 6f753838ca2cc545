/**
 * Discovery as a whole: DMI pre-check, the race, deadlines, `--no-cloud`, `--cloud`. Every test
 * points every provider at loopback (`loopbackEnv`) and uses a fetch that refuses other hosts.
 */
import { deepStrictEqual, ok } from "node:assert/strict";
import {
  CLOUD_ENDPOINTS,
  CLOUD_IDS,
  type CloudDiscovery,
  discoverCloud,
  type DiscoverOptions,
  EMPTY_CLOUD,
  PROBES,
} from "./mod.ts";
import { dmiRoot, forbiddenFetch, loopbackEnv, loopbackFetch } from "../tests/fakes/clouds/env.ts";
import { sleep } from "../base/time.ts";
import { blackhole, type Loopback, refusedUrl, serve } from "../tests/fakes/loopback.ts";
import { always, hang, notFound, text } from "../tests/fakes/clouds/handlers.ts";
import {
  aliyunMetadata,
  awsImds,
  azureImds,
  CASES,
  openstackMetadata,
} from "../tests/fakes/clouds/providers.ts";

const NO_DMI = "/nonexistent-sys-root";
const RACE_IDS = PROBES.filter((p) => p.race).map((p) => p.id);
/** Generous on a loaded 2-core machine. */
const MARGIN_MS = 700;

async function closeAll(...fakes: Loopback[]): Promise<void> {
  await Promise.all(fakes.map((f) => f.close()));
}

function opts(o: Partial<DiscoverOptions> & Pick<DiscoverOptions, "env">): DiscoverOptions {
  return { sys: NO_DMI, fetch: loopbackFetch, ...o };
}

function handlerOf(id: string) {
  const c = CASES.find((x) => x.probe.id === id);
  if (c === undefined) throw new Error(id);
  return c.handler;
}

Deno.test("registry: ids, env variables and default URLs", () => {
  deepStrictEqual(new Set(CLOUD_IDS).size, CLOUD_IDS.length);
  // The light list the CLI checks `--cloud` against (clouds/options.ts) follows the registry.
  deepStrictEqual(CLOUD_IDS, PROBES.map((p) => p.id));
  deepStrictEqual(CLOUD_IDS.slice(0, 3), ["aws", "gcp", "azure"]); // the references' precedence
  const aws = CLOUD_ENDPOINTS.find((e) => e.id === "aws");
  deepStrictEqual(aws?.env, "TRACKER_CLOUD_URL_AWS");
  deepStrictEqual(aws?.defaultUrl, "http://169.254.169.254");
  const ali = CLOUD_ENDPOINTS.find((e) => e.id === "alicloud");
  deepStrictEqual([ali?.env, ali?.defaultUrl, ali?.race], [
    "TRACKER_CLOUD_URL_ALICLOUD",
    "http://100.100.100.200",
    false,
  ]);
  // Only link-local defaults join the blind race.
  for (const e of CLOUD_ENDPOINTS.filter((x) => x.race)) {
    ok(new URL(e.defaultUrl).hostname.startsWith("169.254."), `${e.id} races ${e.defaultUrl}`);
  }
  // Entries, not objects: the key order is what `resource-tracker cloud` prints.
  deepStrictEqual(
    Object.entries(EMPTY_CLOUD),
    Object.entries({
      cloud_vendor_id: null,
      cloud_account_id: null,
      cloud_region_id: null,
      cloud_zone_id: null,
      cloud_instance_type: null,
    }),
  );
});

Deno.test("disabled: resolves at once without any fetch or DMI read", async () => {
  const d = await discoverCloud({
    sys: NO_DMI,
    env: () => {
      throw new Error("env must not be read");
    },
    disabled: true,
    fetch: forbiddenFetch,
  });
  deepStrictEqual(
    Object.entries(d),
    Object.entries({
      info: EMPTY_CLOUD,
      source: "disabled",
      dmi: {},
      candidates: [],
      elapsed_ms: 0,
      errors: [],
    }),
  );
});

Deno.test("unknown --cloud id is rejected with a clear error", async () => {
  let message = "";
  try {
    await discoverCloud(
      opts({ env: loopbackEnv(refusedUrl()), only: "ibm", fetch: forbiddenFetch }),
    );
  } catch (err) {
    message = (err as Error).message;
  }
  ok(message.startsWith('unknown cloud provider "ibm": expected one of aws, gcp'), message);
});

Deno.test("AWS DMI with an unreachable IMDS still gives vendor and Nitro instance type", async () => {
  const d = await discoverCloud(
    opts({ sys: dmiRoot("aws-nitro"), env: loopbackEnv(refusedUrl()) }),
  );
  deepStrictEqual(
    Object.entries(d.info),
    Object.entries({
      ...EMPTY_CLOUD,
      cloud_vendor_id: "aws",
      cloud_instance_type: "m5a.large",
    }),
  );
  deepStrictEqual([d.source, d.candidates, d.errors], ["dmi", ["aws"], []]);
  deepStrictEqual(d.dmi.sys_vendor, "Amazon EC2");
});

Deno.test("AWS DMI with an IMDS that never answers ends within the deadline", async () => {
  const hole = blackhole();
  try {
    const d = await discoverCloud(opts({
      sys: dmiRoot("aws-nitro"),
      env: loopbackEnv(hole.url),
      deadlineMs: 900,
    }));
    deepStrictEqual([d.info.cloud_vendor_id, d.info.cloud_instance_type, d.source], [
      "aws",
      "m5a.large",
      "dmi",
    ]);
    ok(d.elapsed_ms < 900 + MARGIN_MS, `took ${d.elapsed_ms} ms`);
  } finally {
    await hole.close();
  }
});

Deno.test("AWS DMI with a working IMDS: dmi+metadata, only AWS contacted", async () => {
  const imds = serve(awsImds());
  const other = serve(notFound);
  try {
    const d = await discoverCloud(opts({
      sys: dmiRoot("aws-nitro"),
      env: loopbackEnv(other.url, { aws: imds.url }),
    }));
    deepStrictEqual(Object.entries(d.info), Object.entries(CASES[0]!.expected));
    deepStrictEqual([d.source, d.candidates, d.errors], ["dmi+metadata", ["aws"], []]);
    deepStrictEqual(other.hits, []);
  } finally {
    await closeAll(imds, other);
  }
});

Deno.test("no DMI: link-local probes race, first valid answer wins, Alibaba untouched", async () => {
  const hetzner = serve(handlerOf("hcloud"));
  const ali = serve(aliyunMetadata());
  const rest = serve(notFound);
  try {
    const d = await discoverCloud(opts({
      env: loopbackEnv(rest.url, { hcloud: hetzner.url, alicloud: ali.url }),
    }));
    deepStrictEqual(
      Object.entries(d.info),
      Object.entries({
        ...EMPTY_CLOUD,
        cloud_vendor_id: "hcloud",
        cloud_region_id: "eu-central",
        cloud_zone_id: "fsn1-dc14",
      }),
    );
    deepStrictEqual([d.source, d.candidates, d.dmi], ["metadata", RACE_IDS, {}]);
    ok(!d.candidates.includes("alicloud"), "alicloud raced");
    deepStrictEqual(ali.hits, []);
    ok(rest.hits.length > 0, "other probes did not run");
  } finally {
    await closeAll(hetzner, ali, rest);
  }
});

Deno.test("race: a fast answer does not wait for providers that never answer", async () => {
  const azure = serve(azureImds());
  const hole = blackhole();
  try {
    const d = await discoverCloud(opts({
      sys: dmiRoot("hyperv"),
      env: loopbackEnv(hole.url, { azure: azure.url }),
      requestTimeoutMs: 2000,
      providerTimeoutMs: 2400,
    }));
    deepStrictEqual([d.info.cloud_vendor_id, d.info.cloud_instance_type, d.source], [
      "azure",
      "Standard_D2s_v3",
      "metadata",
    ]);
    ok(d.elapsed_ms < 1500, `waited for the losers: ${d.elapsed_ms} ms`);
    deepStrictEqual(d.errors, []);
  } finally {
    await closeAll(azure, hole);
  }
});

Deno.test("Alibaba DMI: only Alibaba is contacted", async () => {
  const ali = serve(aliyunMetadata());
  const rest = serve(notFound);
  try {
    const d = await discoverCloud(opts({
      sys: dmiRoot("alibaba"),
      env: loopbackEnv(rest.url, { alicloud: ali.url }),
    }));
    deepStrictEqual([d.info.cloud_vendor_id, d.info.cloud_region_id, d.source, d.candidates], [
      "alicloud",
      "cn-hangzhou",
      "dmi+metadata",
      ["alicloud"],
    ]);
    deepStrictEqual(rest.hits, []);
  } finally {
    await closeAll(ali, rest);
  }
});

Deno.test("--cloud alicloud contacts Alibaba without DMI; --cloud overrides DMI", async () => {
  const ali = serve(aliyunMetadata());
  const rest = serve(notFound);
  try {
    const env = loopbackEnv(rest.url, { alicloud: ali.url });
    const d = await discoverCloud(opts({ env, only: "alicloud" }));
    deepStrictEqual([d.info.cloud_vendor_id, d.source, d.candidates], [
      "alicloud",
      "metadata",
      ["alicloud"],
    ]);
    deepStrictEqual(rest.hits, []);
    // DMI says AWS, the user says GCP: only GCP is asked, and it does not answer.
    const g = await discoverCloud(opts({ sys: dmiRoot("aws-nitro"), env, only: "gcp" }));
    deepStrictEqual([g.info, g.source, g.candidates], [EMPTY_CLOUD, "none", ["gcp"]]);
  } finally {
    await closeAll(ali, rest);
  }
});

Deno.test("generic OpenStack DMI: OVH found by its resolver, other OpenStack gives no vendor", async () => {
  const ovhLike = serve(openstackMetadata());
  const plain = serve(openstackMetadata({ dns: "192.0.2.53" }));
  try {
    const o = await discoverCloud(
      opts({ sys: dmiRoot("openstack"), env: loopbackEnv(ovhLike.url) }),
    );
    deepStrictEqual([o.info.cloud_vendor_id, o.info.cloud_region_id, o.source], [
      "ovh",
      "GRA11",
      "metadata",
    ]);
    const p = await discoverCloud(opts({ sys: dmiRoot("openstack"), env: loopbackEnv(plain.url) }));
    deepStrictEqual([p.info, p.source, p.candidates, p.errors], [
      EMPTY_CLOUD,
      "none",
      RACE_IDS,
      [],
    ]);
  } finally {
    await closeAll(ovhLike, plain);
  }
});

Deno.test("every provider is found through discovery from its DMI and its fake", async () => {
  for (const c of CASES) {
    const fake = serve(c.handler);
    const rest = serve(notFound);
    try {
      const d: CloudDiscovery = await discoverCloud(opts({
        sys: c.dmi === null ? dmiRoot("kvm") : dmiRoot(c.dmi),
        env: loopbackEnv(rest.url, { [c.probe.id]: fake.url }),
        ...(c.probe.race ? {} : { only: c.probe.id }),
      }));
      deepStrictEqual(Object.entries(d.info), Object.entries(c.expected), c.probe.id);
      deepStrictEqual(d.source, c.dmi === null ? "metadata" : "dmi+metadata", c.probe.id);
    } finally {
      await closeAll(fake, rest);
    }
  }
});

Deno.test("a broken probe gives one short line without the response body", async () => {
  const broken = serve(always(500, "SECRET-TOKEN-VALUE"));
  try {
    const d = await discoverCloud(
      opts({ sys: dmiRoot("aws-nitro"), env: loopbackEnv(broken.url) }),
    );
    deepStrictEqual([d.info.cloud_vendor_id, d.info.cloud_instance_type, d.source], [
      "aws",
      "m5a.large",
      "dmi",
    ]);
    deepStrictEqual(d.errors, []); // 500 on both token and v1 paths: not an IMDS at all
  } finally {
    await broken.close();
  }
  const half = serve(awsImds({
    overrides: { "/latest/meta-data/instance-type": () => text("SECRET-TOKEN-VALUE", 503) },
  }));
  try {
    const d = await discoverCloud(opts({ sys: dmiRoot("aws-nitro"), env: loopbackEnv(half.url) }));
    deepStrictEqual(d.errors, ["aws: HTTP 503 from /latest/meta-data/instance-type"]);
    deepStrictEqual([d.info.cloud_vendor_id, d.info.cloud_instance_type, d.source], [
      "aws",
      "m5a.large",
      "dmi",
    ]);
    ok(!JSON.stringify(d).includes("SECRET"), "body leaked");
  } finally {
    await half.close();
  }
});

Deno.test("an unusable override URL skips that probe instead of using the real address", async () => {
  const rest = serve(notFound);
  try {
    const base = loopbackEnv(rest.url);
    const env = (name: string) => name === "TRACKER_CLOUD_URL_AWS" ? "169.254.169.254" : base(name);
    const d = await discoverCloud(opts({ sys: dmiRoot("aws-nitro"), env }));
    deepStrictEqual(d.errors, ["aws: ignoring TRACKER_CLOUD_URL_AWS: not an http(s) base URL"]);
    deepStrictEqual([d.info.cloud_vendor_id, d.source], ["aws", "dmi"]);
    deepStrictEqual(rest.hits, []);
  } finally {
    await rest.close();
  }
});

Deno.test("override URL with a path prefix and trailing slash", async () => {
  const fake = serve((req, url, closed) => {
    if (!url.pathname.startsWith("/prefix/")) return text("Not Found", 404);
    const inner = new URL(url.pathname.slice("/prefix".length) + url.search, url);
    return handlerOf("hcloud")(req, inner, closed);
  });
  try {
    const d = await discoverCloud(opts({
      sys: dmiRoot("hetzner"),
      env: loopbackEnv(refusedUrl(), { hcloud: `${fake.url}/prefix/` }),
    }));
    deepStrictEqual([d.info.cloud_vendor_id, d.info.cloud_zone_id, d.source], [
      "hcloud",
      "fsn1-dc14",
      "dmi+metadata",
    ]);
  } finally {
    await fake.close();
  }
});

Deno.test("timing: default deadline (2.5 s) holds when every provider never answers", async () => {
  const hole = blackhole();
  const hung = serve(hang);
  try {
    const t0 = performance.now();
    const d = await discoverCloud(opts({ env: loopbackEnv(hole.url, { azure: hung.url }) }));
    const ms = performance.now() - t0;
    deepStrictEqual([d.info, d.source, d.candidates], [EMPTY_CLOUD, "none", RACE_IDS]);
    ok(ms <= 2500 + MARGIN_MS, `took ${ms} ms`);
    // Requests are limited to 1 s, so this cannot end before the first one times out.
    ok(ms >= 900, `ended too early: ${ms} ms`);
  } finally {
    await closeAll(hole, hung);
  }
});

Deno.test("timing: a short deadline aborts everything in flight", async () => {
  const hole = blackhole();
  try {
    const d = await discoverCloud(opts({ env: loopbackEnv(hole.url), deadlineMs: 600 }));
    ok(d.elapsed_ms <= 600 + MARGIN_MS, `took ${d.elapsed_ms} ms`);
    deepStrictEqual(d.source, "none");
    deepStrictEqual(d.errors.length, 1);
    ok(d.errors[0]!.startsWith("deadline reached; no answer yet from aws"), d.errors[0]!);
  } finally {
    await hole.close();
  }
});

Deno.test("timing: resolves by the deadline even when fetch ignores its signal", async () => {
  let calls = 0;
  const stuck: typeof fetch = () => {
    calls++;
    return new Promise<Response>(() => {});
  };
  const t0 = performance.now();
  const d = await discoverCloud({
    sys: dmiRoot("gcp"),
    env: loopbackEnv(refusedUrl()),
    fetch: stuck,
    deadlineMs: 500,
  });
  const ms = performance.now() - t0;
  ok(ms <= 500 + MARGIN_MS, `took ${ms} ms`);
  ok(calls > 0, "fetch not called");
  deepStrictEqual([d.info.cloud_vendor_id, d.source, d.candidates], ["gcp", "dmi", ["gcp"]]);
});

Deno.test("timing: a provider slower than its own limit is cut off and reported", async () => {
  // The AWS identity answers at once; the fields come slower than the provider limit.
  const slowFields = serve(awsImds({
    overrides: {
      "/latest/meta-data/instance-type": async (_r, _u, closed) => {
        await sleep(5000, closed);
        return text("m5a.large");
      },
    },
  }));
  try {
    const d = await discoverCloud(opts({
      sys: dmiRoot("aws-nitro"),
      env: loopbackEnv(refusedUrl(), { aws: slowFields.url }),
      requestTimeoutMs: 2000,
      providerTimeoutMs: 800,
    }));
    deepStrictEqual(d.errors, ["aws: no complete answer within 800 ms"]);
    deepStrictEqual([d.info.cloud_vendor_id, d.source], ["aws", "dmi"]);
    ok(d.elapsed_ms < 800 + MARGIN_MS, `took ${d.elapsed_ms} ms`);
  } finally {
    await slowFields.close();
  }
});

Deno.test("default fetch (direct, proxy-free) reaches loopback overrides", async () => {
  const fake = serve(handlerOf("scaleway"));
  try {
    const d = await discoverCloud({
      sys: dmiRoot("scaleway"),
      env: loopbackEnv(refusedUrl(), { scaleway: fake.url }),
    });
    deepStrictEqual([d.info.cloud_vendor_id, d.info.cloud_zone_id], ["scaleway", "fr-par-1"]);
  } finally {
    await fake.close();
  }
});

Deno.test("invalid limits are rejected", async () => {
  let message = "";
  try {
    await discoverCloud(opts({ env: loopbackEnv(refusedUrl()), deadlineMs: 0 }));
  } catch (err) {
    message = (err as Error).message;
  }
  deepStrictEqual(message, "invalid deadlineMs 0: expected a positive number");
});
