import { deepStrictEqual, match, ok, strictEqual, throws } from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { makeSample, range, sampleIds } from "../tests/fakes/samples.ts";
import { createFileSink, fileKind, rotatedName } from "./file.ts";

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
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/s.csv`;
    const sink = createFileSink({
      path,
      format: "csv",
      compression: "none",
      intervalSecs: 1,
      warn: () => {},
    });
    for (let i = 0; i < 3; i++) sink.write(makeSample(i));
    await new Promise((r) => setTimeout(r, 50));
    const text = await Deno.readTextFile(path); // flushed per line, before close
    deepStrictEqual(sampleIds(text), range(3));
    strictEqual(text.split("\n").filter((l) => l.startsWith("timestamp,")).length, 1);
    strictEqual((await Deno.stat(path)).mode! & 0o777, 0o600);
    await sink.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file: refuses a symlink someone planted", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/victim`, "keep");
    await Deno.symlink(`${dir}/victim`, `${dir}/out.jsonl`);
    throws(
      () =>
        createFileSink({
          path: `${dir}/out.jsonl`,
          format: "json",
          compression: "none",
          intervalSecs: 1,
          warn: () => {},
        }),
      /symbolic link/,
    );
    strictEqual(await Deno.readTextFile(`${dir}/victim`), "keep");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file: gzip blocks are valid members; the file is readable before close", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/s.jsonl.gz`;
    const sink = createFileSink({
      path,
      format: "json",
      compression: "gzip",
      intervalSecs: 1,
      warn: () => {},
      blockMs: 30,
    });
    for (let i = 0; i < 4; i++) {
      sink.write(makeSample(i));
      await new Promise((r) => setTimeout(r, 50));
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
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file: rotation by size keeps max-files old files, each with the CSV header", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/r.csv`;
    const sink = createFileSink({
      path,
      format: "csv",
      compression: "none",
      intervalSecs: 1,
      warn: () => {},
      maxSize: 4096,
      maxFiles: 2,
    });
    for (let i = 0; i < 60; i++) {
      sink.write(makeSample(i));
      await new Promise((r) => setTimeout(r, 1));
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
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
