/** Building blocks for fake metadata services: answers and route behaviours for `serve`. */
import { sleep } from "../../../base/time.ts";
import { aborted, type Handler } from "../loopback.ts";

export const text = (body: string, status = 200, headers: Record<string, string> = {}) =>
  new Response(body, { status, headers: { "content-type": "text/plain", ...headers } });

export const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body, null, 2), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });

export const notFound: Handler = () => text("Not Found", 404);

/** Same answer for every path. */
export const always = (status: number, body: string): Handler => () => text(body, status);

/** Delays every answer of `inner` by `ms` (cut short when the fake closes). */
export const slow = (ms: number, inner: Handler): Handler => async (req, url, closed) => {
  await sleep(ms, closed);
  return inner(req, url, closed);
};

/** Never answers (until the fake is closed). */
export const hang: Handler = async (_req, _url, closed) => {
  await aborted(closed);
  return text("closed", 503);
};
