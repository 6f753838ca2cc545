/**
 * Byte buffers: the one "join the chunks read so far" of the project, and a response body read
 * with a ceiling.
 */

/** The chunks laid end to end in one new buffer. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let size = 0;
  for (const p of parts) size += p.byteLength;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/**
 * A response body of at most `maxBytes`, or null when it is longer (the rest is cancelled): a
 * hostile or broken server cannot fill memory. A failing body stream rejects.
 */
export async function readBodyAtMost(
  res: Response,
  maxBytes: number,
): Promise<Uint8Array<ArrayBuffer> | null> {
  if (res.body === null) return new Uint8Array();
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => {});
        return null;
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  return concatBytes(chunks);
}
