/**
 * Run ONLY inside a fresh private network namespace (`unshare --net`): puts each provider's real
 * metadata address on the namespace's loopback device, serves the provider's documented paths
 * there with the strict origin server, and runs `resource-tracker cloud --cloud ID` with no URL
 * override and an unreachable proxy in the environment. Prints one JSON line per provider.
 * Refuses to do anything when the namespace has any interface besides `lo`.
 */
import { CASES } from "../fakes/clouds/providers.ts";
import { strictServe } from "../fakes/clouds/strict.ts";
import { command } from "../helpers.ts";

async function sh(...args: string[]): Promise<string> {
  const out = await new Deno.Command(args[0]!, { args: args.slice(1) }).output();
  if (!out.success) throw new Error(`${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

const links = (await sh("ip", "-o", "link", "show")).trim().split("\n");
if (links.length !== 1 || !/^\d+: lo:/.test(links[0]!)) {
  console.error("not in a private network namespace (interfaces besides lo); refusing");
  Deno.exit(3);
}
await sh("ip", "link", "set", "lo", "up");
const addrs = new Set(CASES.map((c) => new URL(c.probe.defaultBaseUrl).hostname));
for (const a of addrs) await sh("ip", "addr", "add", `${a}/32`, "dev", "lo");

for (const c of CASES) {
  const host = new URL(c.probe.defaultBaseUrl).hostname;
  const srv = strictServe(c.handler, { hostname: host, port: 80 });
  try {
    const out = await command(["cloud", "--cloud", c.probe.id, "--sysfs", "/nonexistent"], {
      env: {
        TRACKER_NO_CLOUD: "0",
        HTTP_PROXY: "http://127.0.0.1:9",
        http_proxy: "http://127.0.0.1:9",
        HTTPS_PROXY: "http://127.0.0.1:9",
        ALL_PROXY: "http://127.0.0.1:9",
        NO_PROXY: "",
      },
    }).output();
    const d = JSON.parse(new TextDecoder().decode(out.stdout) || "{}");
    console.log(JSON.stringify({
      id: c.probe.id,
      address: host,
      code: out.code,
      info: d.info,
      expected: c.expected,
      lines: srv.requests.map((r) => r.line),
      rejected: srv.rejected,
    }));
  } finally {
    await srv.close();
  }
}
