/** How the tracker names itself on every request it makes (`User-Agent`). */
import denoJson from "../deno.json" with { type: "json" };

export const USER_AGENT = `resource-tracker/${denoJson.version}`;

/** A `fetch` that adds our `User-Agent` to every request that does not set one. */
export function withUserAgent(fetchFn: typeof fetch): typeof fetch {
  return (input, init) => {
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : {}));
    if (!headers.has("user-agent")) headers.set("user-agent", USER_AGENT);
    return fetchFn(input, { ...init, headers });
  };
}
