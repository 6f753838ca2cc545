import { deepStrictEqual, match, ok, strictEqual, throws } from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { sleep } from "../base/time.ts";
import { makeSample, range, sampleIds } from "../tests/fakes/samples.ts";
import { withTempDir } from "../tests/helpers.ts";
import { createFileSink, fileKind, type FileSinkOptions, rotatedName } from "./file.ts";

const withDir = (f: (dir: string) => Promise<void>) => withTempDir("rt-file-", f);

/** A file sink at `path` with the given format and compression, 1 s interval, no warnings. */
function openSink(
  path: string,
  format: FileSinkOptions["format"],
  compression: FileSinkOptions["compression"],
  extra: Partial<FileSinkOptions> = {},
) {
  return createFileSink({ path, format, compression, intervalSecs: 1, warn: () => {}, ...extra });
}

Deno.test("file: format and compression from the name", () => {
  const cases: [string, ReturnType<typeof fileKind>][] = [
    ["out.jsonl", { format: "json", compression: "none" }],
    ["out.csv", { format: "csv", compression: "none" }],
    ["a/b.CSV.gz", { format: "csv", compression: "gzip" }],
    ["x.ndjson.zst", { format: "json", compression: "zstd" }],
    ["x.log.gz", { format: null, compression: "gzip" }],
    ["x.txt", { format: null, compression: "none" }],
  ];
  for (const [path, want] of cases) deepStrictEqual(fileKind(path), want, path);
});

Deno.test("file: rotated names keep the extension last", () => {
  strictEqual(rotatedName("/d/out.csv.gz", 2), "/d/out.2.csv.gz");
  strictEqual(rotatedName("/d/out.jsonl", 1), "/d/out.1.jsonl");
  strictEqual(rotatedName("/d/out.txt", 3), "/d/out.txt.3");
  strictEqual(rotatedName("/d/.csv", 1), "/d/.csv.1");
});

Deno.test("file: created 0600, CSV header once, every line written before close", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/s.csv`;
    const sink = openSink(path, "csv", "none");
    for (let i = 0; i < 3; i++) sink.write(makeSample(i));
    await sleep(50);
    const text = await Deno.readTextFile(path); // flushed per line, before close
    deepStrictEqual(sampleIds(text), range(3));
    strictEqual(text.split("\n").filter((l) => l.startsWith("timestamp,")).length, 1);
    strictEqual((await Deno.stat(path)).mode! & 0o777, 0o600);
    await sink.close();
  });
});

Deno.test("file: refuses a symlink someone planted", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/victim`, "keep");
    await Deno.symlink(`${dir}/victim`, `${dir}/out.jsonl`);
    throws(
      () => openSink(`${dir}/out.jsonl`, "json", "none"),
      /symbolic link/,
    );
    strictEqual(await Deno.readTextFile(`${dir}/victim`), "keep");
  });
});

Deno.test("file: gzip blocks are valid members; the file is readable before close", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/s.jsonl.gz`;
    const sink = openSink(path, "json", "gzip", { blockMs: 30 });
    for (let i = 0; i < 4; i++) {
      sink.write(makeSample(i));
      await sleep(50);
    }
    // Not closed yet: what is there is already a complete gzip stream.
    const mid = sampleIds(new TextDecoder().decode(gunzipSync(await Deno.readFile(path))));
    ok(mid.length >= 3, `${mid}`);
    await sink.close();
    const { code } = await new Deno.Command("gzip", { args: ["-t", path] }).output();
    strictEqual(code, 0);
    deepStrictEqual(
      sampleIds(new TextDecoder().decode(gunzipSync(await Deno.readFile(path)))),
      range(4),
    );
  });
});

Deno.test("file: rotation by size keeps max-files old files, each with the CSV header", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/r.csv`;
    const sink = openSink(path, "csv", "none", { maxSize: 4096, maxFiles: 2 });
    for (let i = 0; i < 60; i++) {
      sink.write(makeSample(i));
      await sleep(1);
    }
    await sink.close();
    const names = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
    deepStrictEqual(names, ["r.1.csv", "r.2.csv", "r.csv"]);
    let all: number[] = [];
    for (const n of ["r.2.csv", "r.1.csv", "r.csv"]) {
      const text = await Deno.readTextFile(`${dir}/${n}`);
      match(text, /^timestamp,/);
      ok(text.length <= 4096, `${n} is ${text.length} bytes`);
      strictEqual((await Deno.stat(`${dir}/${n}`)).mode! & 0o777, 0o600);
      all = all.concat(sampleIds(text));
    }
    deepStrictEqual(all, range(all.length, 60 - all.length), "newest samples, in order");
  });
});
