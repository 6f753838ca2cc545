/**
 * gzip/zstd through node:zlib, loaded on first use: the Node compatibility layer costs ~60 ms
 * of start-up, which runs without compressing sinks need not pay.
 */
export type Compression = "none" | "gzip" | "zstd";

type Zlib = typeof import("node:zlib");
let zlib: Promise<Zlib> | undefined;
const load = () => (zlib ??= import("node:zlib"));

function call(
  f: (buf: Uint8Array, cb: (err: Error | null, out: Uint8Array) => void) => void,
  data: Uint8Array,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) =>
    f(data, (err, out) => (err ? reject(err) : resolve(new Uint8Array(out))))
  );
}

export async function compress(data: Uint8Array, c: Compression): Promise<Uint8Array> {
  if (c === "none") return data;
  const z = await load();
  return c === "gzip" ? call(z.gzip, data) : call(z.zstdCompress, data);
}

export async function gunzip(data: Uint8Array): Promise<Uint8Array> {
  return call((await load()).gunzip, data);
}
