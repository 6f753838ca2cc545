/** A recording's text, decompressed when it is gzip or zstd (told by its first bytes). */
export async function gunzipIfNeeded(file: string): Promise<string> {
  const data = await Deno.readFile(file);
  const gz = data[0] === 0x1f && data[1] === 0x8b;
  const zst = data[0] === 0x28 && data[1] === 0xb5 && data[2] === 0x2f && data[3] === 0xfd;
  if (!gz && !zst) return new TextDecoder().decode(data);
  const z = await import("node:zlib");
  return new TextDecoder().decode(gz ? z.gunzipSync(data) : z.zstdDecompressSync(data));
}
