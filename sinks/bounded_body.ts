/**
 * Response bodies read with a ceiling: a hostile or broken server cannot fill our memory, and
 * what is quoted from one is a single bounded line.
 */
import { concatBytes, readBodyAtMost } from "../base/bytes.ts";

/** The most any API answer we parse may hold (Sentinel's are a few hundred bytes). */
export const MAX_API_BODY_BYTES = 1 << 20;

/** The body as text, or an Error saying it is over `limit` bytes (the rest is cancelled). */
export async function boundedText(res: Response, limit = MAX_API_BODY_BYTES): Promise<string> {
  const bytes = await readBodyAtMost(res, limit);
  if (bytes === null) throw new Error(`answer over ${limit} bytes`);
  return new TextDecoder().decode(bytes);
}

/** Reads at most `limit` bytes of a body as text and cancels the rest. */
export async function readPrefix(res: Response, limit: number): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      size += value.length;
    }
  } catch {
    /* a broken body leaves what was read */
  } finally {
    await reader.cancel().catch(() => {});
  }
  return new TextDecoder().decode(concatBytes(parts).subarray(0, limit));
}

/** One line of printable text, at most `max` characters. */
export function excerpt(text: string, max = 160): string {
  // deno-lint-ignore no-control-regex
  const flat = text.replace(/[\x00-\x1f\x7f]+/g, " ").replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
}
