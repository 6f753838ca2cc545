/** A bearer token sent over plain `http://` to another machine can be read on the way. */

/** Loopback names and addresses: a token sent there never leaves the machine. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  return h === "localhost" || h.endsWith(".localhost") || /^127(\.\d{1,3}){3}$/.test(h) ||
    h === "::1";
}

/** The warning for a token that would travel in clear text, or null when it would not. */
export function plainTokenWarning(what: string, rawUrl: string): string | null {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" || isLoopbackHost(url.hostname)) return null;
  return `${what}: the API token goes to ${url.host} over plain http:// (readable on the ` +
    "network); use https://";
}
