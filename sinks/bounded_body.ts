/** Response bodies read with a ceiling: a hostile or broken server cannot fill our memory. */

/** The most any API answer we parse may hold (Sentinel's are a few hundred bytes). */
export const MAX_API_BODY_BYTES = 1 << 20;

/** The body as text, or an Error saying it is over `limit` bytes (the rest is cancelled). */
export async function boundedText(res: Response, limit = MAX_API_BODY_BYTES): Promise<string> {
  if (res.body === null) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => {});
        throw new Error(`answer over ${limit} bytes`);
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder().decode(out);
}
