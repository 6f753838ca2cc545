/**
 * Keeps secrets out of what we print: known values (tokens, keys, STS credentials as they
 * arrive) are replaced wherever they appear, and shapes that always carry secrets (bearer
 * tokens, SigV4 authorizations, URL passwords and query strings) are masked even when the
 * value was never registered.
 */

const MASK = "***";

const PATTERNS: readonly [RegExp, string][] = [
  [/(Bearer\s+)[^\s"',;]+/gi, `$1${MASK}`],
  [/(Credential=)[^\s,]+/g, `$1${MASK}`],
  [/(Signature=)[0-9a-f]+/gi, `$1${MASK}`],
  [/((?:x-amz-security-token|x-amz-credential|x-amz-signature)[=:]\s*)[^\s&"',;]+/gi, `$1${MASK}`],
  [
    /("(?:access_key|secret_key|session_token|token|secret|password|api_key)"\s*:\s*")[^"]*"/gi,
    `$1${MASK}"`,
  ],
  [/\b(AKIA|ASIA)[0-9A-Z]{12,}\b/g, `$1${MASK}`],
];

export class Redactor {
  #secrets = new Set<string>();

  /** Registers a value to mask wherever it appears (values shorter than 4 are ignored). */
  add(secret: string | null | undefined): void {
    if (secret && secret.length >= 4) this.#secrets.add(secret);
  }

  apply(text: string): string {
    let out = text;
    // Longest first, so a secret containing another is masked whole.
    for (const s of [...this.#secrets].sort((a, b) => b.length - a.length)) {
      out = out.split(s).join(MASK);
    }
    for (const [re, to] of PATTERNS) out = out.replace(re, to);
    return out;
  }

  /** A warn function that redacts before passing the line on. */
  wrap(warn: (line: string) => void): (line: string) => void {
    return (line) => warn(this.apply(line));
  }
}

/** A URL safe to print: no user info, no query values, no fragment. */
export function redactUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return raw.replace(/\/\/[^/@]*@/, "//").replace(/[?#].*$/, "");
  }
  u.username = "";
  u.password = "";
  u.hash = "";
  const keys = [...new Set(u.searchParams.keys())];
  u.search = "";
  let out = u.toString();
  if (keys.length > 0) out += "?" + keys.map((k) => `${encodeURIComponent(k)}=${MASK}`).join("&");
  return out;
}
