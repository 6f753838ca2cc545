/**
 * Test guards: every provider's base URL points at loopback, and the fetch used refuses any
 * other host, so no test can reach a real metadata service.
 */
import { metadataFetch } from "../../../clouds/http.ts";
import { CLOUD_ENDPOINTS } from "../../../clouds/mod.ts";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

function assertLoopback(raw: string): void {
  const host = new URL(raw).hostname;
  if (!LOOPBACK.has(host)) throw new Error(`test URL ${raw} is not on loopback`);
}

/**
 * An `env` for `discoverCloud` that sets `TRACKER_CLOUD_URL_<ID>` for EVERY provider:
 * `urls[id]` where given, else `fallback`. Other names are unset.
 */
export function loopbackEnv(
  fallback: string,
  urls: Readonly<Record<string, string>> = {},
): (name: string) => string | undefined {
  assertLoopback(fallback);
  const map = new Map<string, string>();
  for (const e of CLOUD_ENDPOINTS) {
    const url = urls[e.id] ?? fallback;
    assertLoopback(url);
    map.set(e.env, url);
  }
  for (const id of Object.keys(urls)) {
    if (!CLOUD_ENDPOINTS.some((e) => e.id === id)) throw new Error(`unknown provider ${id}`);
  }
  return (name) => map.get(name);
}

/** The production fetch, refusing anything but loopback. */
export const loopbackFetch: typeof fetch = (input, init) => {
  const raw = input instanceof Request ? input.url : String(input);
  const host = new URL(raw).hostname;
  if (!LOOPBACK.has(host)) {
    return Promise.reject(new Error(`test tried to reach non-loopback host ${host}`));
  }
  return metadataFetch(input, init);
};

/** A fetch that fails the test if it is ever called. */
export const forbiddenFetch: typeof fetch = (input) => {
  throw new Error(`fetch must not be called (${String(input)})`);
};

/** Path of a DMI fixture tree (a `sys` root) under `clouds/testdata/dmi/`. */
export function dmiRoot(name: string): string {
  return new URL(`../../../clouds/testdata/dmi/${name}`, import.meta.url).pathname;
}
