/**
 * `resource-tracker cloud` through the production transport against strict, independent origin
 * servers (400 for absolute-form targets or a missing Host), with every proxy variable pointing
 * at a closed port: the probes must go straight to the address, in origin form.
 */
import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { CLOUD_ENDPOINTS } from "../clouds/mod.ts";
import { refusedUrl } from "./fakes/loopback.ts";
import { CASES } from "./fakes/clouds/providers.ts";
import { strictServe } from "./fakes/clouds/strict.ts";
import { USER_AGENT } from "../base/user_agent.ts";
import { runCli } from "./helpers.ts";

const DEAD_PROXY = refusedUrl();
const PROXIES = {
  HTTP_PROXY: DEAD_PROXY,
  http_proxy: DEAD_PROXY,
  HTTPS_PROXY: DEAD_PROXY,
  https_proxy: DEAD_PROXY,
  ALL_PROXY: DEAD_PROXY,
  all_proxy: DEAD_PROXY,
  NO_PROXY: "",
  no_proxy: "",
};

for (const c of CASES) {
  Deno.test(`CLI: \`cloud --cloud ${c.probe.id}\` through a dead HTTP_PROXY reaches a strict server`, async () => {
    const srv = strictServe(c.handler);
    try {
      const env: Record<string, string> = { TRACKER_NO_CLOUD: "0", ...PROXIES };
      const closed = refusedUrl();
      for (const e of CLOUD_ENDPOINTS) env[e.env] = e.id === c.probe.id ? srv.url : closed;
      const r = await runCli(["cloud", "--cloud", c.probe.id, "--sysfs", "/nonexistent"], { env });
      strictEqual(r.code, 0, r.stderr);
      const d = JSON.parse(r.stdout);
      deepStrictEqual(d.info, c.expected, r.stdout);
      deepStrictEqual(srv.rejected, []);
      ok(srv.requests.length > 0);
      for (const q of srv.requests) {
        ok(/^(GET|PUT) \/\S* HTTP\/1\.1$/.test(q.line), q.line);
        strictEqual(q.host, new URL(srv.url).host);
        strictEqual(q.userAgent, USER_AGENT);
      }
    } finally {
      await srv.close();
    }
  });
}

/** Whether this machine lets us create a private network namespace (root, unshare). */
async function canUnshare(): Promise<boolean> {
  try {
    const out = await new Deno.Command("unshare", {
      args: ["--net", "ip", "link", "set", "lo", "up"],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

Deno.test("CLI: `cloud` finds each provider at its real metadata address inside a private network namespace", async (t) => {
  if (!await canUnshare()) {
    console.log("SKIPPED: cannot create a network namespace here (`unshare --net` needs root)");
    return;
  }
  const script = new URL("./netns/link_local_metadata.ts", import.meta.url).pathname;
  const out = await new Deno.Command("unshare", {
    args: ["--net", Deno.execPath(), "run", "--allow-all", "--quiet", script],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  strictEqual(out.code, 0, stderr);
  const rows = new TextDecoder().decode(out.stdout).trim().split("\n").map((l) => JSON.parse(l));
  strictEqual(rows.length, CASES.length, stderr);
  for (const row of rows) {
    await t.step(`${row.id} at ${row.address}`, () => {
      strictEqual(row.code, 0);
      deepStrictEqual(row.info, row.expected);
      deepStrictEqual(row.rejected, []);
      for (const l of row.lines) ok(/^(GET|PUT) \/\S* HTTP\/1\.1$/.test(l), l);
    });
  }
});
