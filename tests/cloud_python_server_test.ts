/**
 * `resource-tracker cloud` against Python's `http.server` — an ordinary HTTP/1.1 server nobody
 * here wrote, the one that answers proxy-form request lines with 404 — serving each static
 * provider's documented paths as files, with a dead HTTP_PROXY in the environment. Providers
 * that need request headers or PUT (AWS, GCP, Azure, Alibaba, Oracle, Linode) are covered by the
 * strict server in cloud_transport_cli_test.ts.
 */
import { sleep } from "../base/time.ts";
import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { CLOUD_ENDPOINTS } from "../clouds/mod.ts";
import { closedPort, refusedUrl } from "./fakes/loopback.ts";
import { CASES } from "./fakes/clouds/providers.ts";
import { runCli } from "./helpers.ts";

/** Paths each static provider reads (files under the served directory). */
const STATIC: Record<string, string[]> = {
  hcloud: ["/hetzner/v1/metadata"],
  upcloud: ["/metadata/v1.json"],
  vultr: ["/v1.json"],
  digitalocean: ["/metadata/v1.json"],
  ovh: [
    "/openstack/latest/network_data.json",
    "/openstack/latest/meta_data.json",
    "/latest/meta-data/instance-type",
  ],
  // http.server ignores the query string: `/conf?format=json` is the file `conf`.
  scaleway: ["/conf?format=json"],
};

async function python(): Promise<string | null> {
  for (const bin of ["python3", "python"]) {
    try {
      const out = await new Deno.Command(bin, {
        args: ["-c", "import http.server"],
        stdout: "null",
        stderr: "null",
      }).output();
      if (out.success) return bin;
    } catch { /* not there */ }
  }
  return null;
}

Deno.test("CLI: `cloud` identifies the static providers served by Python's http.server", async (t) => {
  const py = await python();
  if (py === null) {
    console.log("\n!!! SKIPPED: no python3 with http.server on this machine !!!\n");
    return;
  }
  const never = new AbortController().signal;
  for (const [id, paths] of Object.entries(STATIC)) {
    await t.step(id, async () => {
      const c = CASES.find((x) => x.probe.id === id)!;
      const dir = await Deno.makeTempDir({ prefix: `rt-py-${id}-` });
      const port = closedPort();
      let server: Deno.ChildProcess | null = null;
      try {
        for (const p of paths) {
          const url = new URL(`http://127.0.0.1${p}`);
          const res = await c.handler(new Request(url), url, never);
          strictEqual(res.status, 200, `${id} ${p}`);
          const file = `${dir}${url.pathname}`;
          await Deno.mkdir(file.replace(/\/[^/]+$/, ""), { recursive: true });
          await Deno.writeFile(file, new Uint8Array(await res.arrayBuffer()));
        }
        server = new Deno.Command(py, {
          args: ["-m", "http.server", "--bind", "127.0.0.1", "--directory", dir, String(port)],
          stdout: "null",
          stderr: "null",
        }).spawn();
        for (let i = 0;; i++) {
          try {
            (await Deno.connect({ hostname: "127.0.0.1", port })).close();
            break;
          } catch {
            if (i > 200) throw new Error("http.server did not start");
            await sleep(50);
          }
        }
        const dead = refusedUrl();
        const env: Record<string, string> = {
          TRACKER_NO_CLOUD: "0",
          HTTP_PROXY: dead,
          http_proxy: dead,
          ALL_PROXY: dead,
          NO_PROXY: "",
          no_proxy: "",
        };
        for (const e of CLOUD_ENDPOINTS) {
          env[e.env] = e.id === id ? `http://127.0.0.1:${port}` : dead;
        }
        const r = await runCli(["cloud", "--cloud", id, "--sysfs", "/nonexistent"], { env });
        strictEqual(r.code, 0, r.stderr);
        const d = JSON.parse(r.stdout);
        deepStrictEqual(d.info, c.expected, r.stdout);
      } finally {
        if (server) {
          server.kill();
          await server.status;
        }
        await Deno.remove(dir, { recursive: true });
      }
    });
  }
});
