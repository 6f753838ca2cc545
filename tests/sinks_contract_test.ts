/**
 * One contract every sink kind passes: each sample delivered exactly once, an outage survived,
 * a flush on close, and a close in the middle of a batch that still delivers everything.
 */
import { deepStrictEqual, ok } from "node:assert/strict";
import { gunzipSync, zstdDecompressSync } from "node:zlib";
import { sleep } from "../base/time.ts";
import { createSinks, SINKS, type SinkSet, type SinkTestHooks } from "../sinks/mod.ts";
import { type TestContext, testContext } from "./fakes/context.ts";
import { HttpReceiver } from "./fakes/http_receiver.ts";
import { OtlpCollector } from "./fakes/otlp_collector.ts";
import { RemoteWriteReceiver } from "./fakes/remote_write_receiver.ts";
import { BASE_MS, makeSample, range, sampleIds, waitFor } from "./fakes/samples.ts";
import { FakeS3 } from "./fakes/s3.ts";
import { FakeSentinel } from "./fakes/sentinel.ts";
import type { Faults } from "./fakes/faults.ts";

const TUNING = { retryBaseMs: 30, retryMaxMs: 150, requestTimeoutMs: 2_000 };

interface Harness {
  args: string[];
  env: Record<string, string>;
  hooks: SinkTestHooks;
  /** Sample ids that reached the target (read after close). */
  received(): number[];
  /** Starts or ends an outage (503s, or a stalled stream). */
  outage?(on: boolean): void;
  /** Makes the next delivery slow (the request or write takes `ms`). */
  slowNext?(ms: number): void;
  /** Deliveries started so far (for "mid-batch"). */
  started?(): number;
  dispose(): Promise<void>;
}

type Setup = (uploadInterval: string) => Promise<Harness>;

async function tmpDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "rt-sink-" });
}

/** A file sink at `<tmp>/<name>`; `decode` undoes its compression. */
function fileKind(name: string, decode: (bytes: Uint8Array) => Uint8Array = (b) => b): Setup {
  return async () => {
    const dir = await tmpDir();
    const path = `${dir}/${name}`;
    return {
      args: ["--sink", path],
      env: {},
      hooks: {},
      received: () => sampleIds(new TextDecoder().decode(decode(Deno.readFileSync(path)))),
      dispose: () => Deno.remove(dir, { recursive: true }),
    };
  };
}

/** A loopback fake behind a remote sink: where outages and slow answers are scripted. */
interface Remote {
  faults: Faults;
  started(): number;
  close(): Promise<void>;
}

/** The harness of a remote sink kind: `own` gives its arguments and reading, given its spool. */
async function remoteKind(
  r: Remote,
  own: (dir: string) => Pick<Harness, "args" | "received"> & Partial<Harness>,
): Promise<Harness> {
  const dir = await tmpDir();
  return {
    env: {},
    hooks: { tuning: TUNING },
    ...own(dir),
    outage(on) {
      r.faults.always = on ? { status: 503 } : null;
    },
    slowNext(ms) {
      r.faults.queue.push({ delayMs: ms, slowOk: true });
    },
    started: r.started,
    async dispose() {
      await r.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** A fake with its own faults, counting its requests. */
function served(fake: { faults: Faults; requests: number; close(): Promise<void> }): Remote {
  return { faults: fake.faults, started: () => fake.requests, close: () => fake.close() };
}

const KINDS: Record<string, Setup> = {
  "file (.jsonl)": fileKind("out.jsonl"),
  "file (.csv.gz)": fileKind("out.csv.gz", gunzipSync),
  "file (.jsonl.zst)": fileKind("out.jsonl.zst", zstdDecompressSync),
  // deno-lint-ignore require-await
  async stdout() {
    let text = "";
    let stalled: PromiseWithResolvers<void> | null = null;
    let slow = 0;
    let writes = 0;
    return {
      args: ["--sink", "stdout"],
      env: {},
      hooks: {
        stdout: {
          async write(p) {
            writes++;
            if (slow > 0) {
              await sleep(slow);
              slow = 0;
            }
            if (stalled) await stalled.promise;
            text += new TextDecoder().decode(p);
            return p.length;
          },
        },
      },
      received: () => sampleIds(text),
      outage(on) {
        if (on) stalled = Promise.withResolvers();
        else {
          stalled?.resolve();
          stalled = null;
        }
      },
      slowNext(ms) {
        slow = ms;
      },
      started: () => writes,
      dispose: () => Promise.resolve(),
    };
  },
  http() {
    const rx = new HttpReceiver();
    return remoteKind(served(rx), (dir) => ({
      args: ["--sink", `${rx.url}/ingest`, "--spool-dir", dir],
      received: () => sampleIds(rx.text()),
    }));
  },
  otlp() {
    const col = new OtlpCollector();
    return remoteKind(served(col), (dir) => ({
      args: ["--sink", col.base.replace("http://", "otlp+http://"), "--spool-dir", dir],
      // One point of resource_tracker.samples per sample, at the sample's time.
      received: () =>
        col.points("resource_tracker.samples").map((p) =>
          Math.round((Number(BigInt(p.timeUnixNano) / 1000000n) - BASE_MS) / 1000)
        ),
    }));
  },
  "prometheus+remote-write"() {
    const rx = new RemoteWriteReceiver();
    return remoteKind(served(rx), (dir) => ({
      args: ["--sink", rx.url.replace("http://", "prometheus+remote-write://"), "--spool-dir", dir],
      // One sample of resource_tracker_samples_total per tracker sample, at its time.
      received: () =>
        rx.timestamps("resource_tracker_samples_total").map((t) =>
          Math.round((t - BASE_MS) / 1000)
        ),
    }));
  },
  s3() {
    const s3 = new FakeS3();
    s3.keys.set("AKIAUSERKEY0000001", { secret: "user-secret-abcdef" });
    const remote = { faults: s3.faults, started: () => s3.calls.length, close: () => s3.close() };
    return remoteKind(remote, (dir) => ({
      args: ["--sink", "s3://user-bucket/metrics/node-1", "--spool-dir", dir],
      env: {
        AWS_ACCESS_KEY_ID: "AKIAUSERKEY0000001",
        AWS_SECRET_ACCESS_KEY: "user-secret-abcdef",
        AWS_REGION: "eu-north-1",
        AWS_ENDPOINT_URL: s3.url,
      },
      received: () => [...s3.texts("user-bucket/metrics/node-1/").values()].flatMap(sampleIds),
    }));
  },
  sentinel() {
    const s3 = new FakeS3();
    const api = new FakeSentinel(s3, { region: "eu-central-1" });
    const remote = {
      faults: s3.faults,
      started: () => s3.calls.length,
      async close() {
        await api.close();
        await s3.close();
      },
    };
    return remoteKind(remote, (dir) => ({
      args: ["--spool-dir", dir],
      env: api.env(),
      hooks: { tuning: TUNING, cloudWaitMs: 50 },
      received() {
        const fin = api.calls_(/\/finish$/)[0]?.body;
        const inline = typeof fin?.["data_csv"] === "string" ? fin["data_csv"] as string : "";
        return [...s3.texts().values(), inline].flatMap(sampleIds);
      },
    }));
  },
};

function assertExactlyOnce(got: number[], n: number) {
  deepStrictEqual([...got].sort((a, b) => a - b), range(n), `got ${JSON.stringify(got)}`);
}

/** Sets up `setup`'s harness and its sinks at `interval`, runs `f`, and disposes of it. */
async function withSinks(
  setup: Setup,
  interval: string,
  f: (h: Harness, ctx: TestContext, set: SinkSet) => Promise<void>,
) {
  const h = await setup(interval);
  try {
    const ctx = testContext(
      [...h.args, "--upload-interval", interval, "--flush-timeout", "8"],
      h.env,
    );
    await f(h, ctx, await createSinks(ctx, h.hooks));
  } finally {
    await h.dispose();
  }
}

Deno.test("sink contract: every kind in the registry has a harness here", () => {
  const covered = new Set(Object.keys(KINDS).map((k) => k.replace(/ \(.*\)$/, "")));
  covered.add("stderr"); // the stdout harness: one stream sink for both
  deepStrictEqual(SINKS.map((k) => k.name).filter((n) => !covered.has(n)), []);
});

for (const [kind, setup] of Object.entries(KINDS)) {
  Deno.test(`sink contract (${kind}): delivers every sample exactly once`, async () => {
    await withSinks(setup, "0.1", async (h, ctx, set) => {
      for (let i = 0; i < 30; i++) {
        set.write(makeSample(i));
        if (i % 10 === 9) await sleep(60);
      }
      await set.close({ exitCode: 0 });
      assertExactlyOnce(h.received(), 30);
      deepStrictEqual(ctx.warnings, []);
    });
  });

  Deno.test(`sink contract (${kind}): flushes on close`, async () => {
    await withSinks(setup, "60", async (h, _ctx, set) => {
      for (let i = 0; i < 5; i++) set.write(makeSample(i));
      await set.close({ exitCode: 0 });
      assertExactlyOnce(h.received(), 5);
    });
  });

  // Files have no outage to survive; streams stall, remote targets answer 503.
  if (!kind.startsWith("file")) {
    Deno.test(`sink contract (${kind}): survives an outage without blocking writes`, async () => {
      await withSinks(setup, "0.1", async (h, _ctx, set) => {
        h.outage!(true);
        const t0 = performance.now();
        for (let i = 0; i < 10; i++) set.write(makeSample(i));
        ok(performance.now() - t0 < 100, "write() returned at once during the outage");
        await sleep(400);
        h.outage!(false);
        for (let i = 10; i < 20; i++) set.write(makeSample(i));
        await sleep(150);
        await set.close({ exitCode: 0 });
        assertExactlyOnce(h.received(), 20);
      });
    });

    Deno.test(`sink contract (${kind}): close mid-batch delivers everything`, async () => {
      await withSinks(setup, "0.1", async (h, _ctx, set) => {
        h.slowNext!(400);
        for (let i = 0; i < 10; i++) set.write(makeSample(i));
        ok(await waitFor(() => h.started!() > 0), "a delivery started");
        for (let i = 10; i < 20; i++) set.write(makeSample(i));
        await set.close({ exitCode: 0 });
        assertExactlyOnce(h.received(), 20);
      });
    });
  }
}
