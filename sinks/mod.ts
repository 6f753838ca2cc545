/**
 * Sink registry and fan-out. `SINKS` lists every kind a `--sink URI` can name; the heavy remote
 * ones load with `await import()` only when selected. `createSinks` adds the R-compatible
 * default stream (`--output`/`--format`/`--quiet`) and Sentinel (when a token is set).
 */
import type { Config } from "../cli/config.ts";
import { errorText, UsageError } from "../base/errors.ts";
import { writeAllSync } from "../base/log.ts";
import type { Sample } from "../base/sample.ts";
import { createEncoder, type Format } from "../formats/mod.ts";
import { DEFAULT_TUNING, type Tuning } from "./delivery.ts";
import type { RemoteDeps } from "./remote.ts";
import { createFileSink, fileKind } from "./file.ts";
import { bucketProblem } from "./s3_names.ts";
import { Redactor, redactUrl } from "./redact.ts";
import { type RunInfo, sentinelToken, type Sink } from "./sink.ts";

export type { RunInfo };
import { defaultSpoolDir, DENO_FS, type SpoolFs } from "./spool.ts";
import { createStreamSink } from "./stream.ts";

export type { Sink } from "./sink.ts";
export { SINK_OPTIONS } from "./options.ts";

export interface SinkContext {
  config: Config;
  env: (name: string) => string | undefined;
  warn: (line: string) => void;
  run: RunInfo;
  /** Progress lines of `flush` (default: stderr, unprefixed). */
  info?: (line: string) => void;
  /** Output of `flush --list` (default: stdout). */
  print?: (line: string) => void;
}

export interface ExitInfo {
  exitCode: number;
  /** Aborted when a signal arrives during the flush: stop waiting, keep the rest. */
  signal?: AbortSignal;
}

export interface SinkSet {
  /** Hands the sample to every sink; returns at once. */
  write(sample: Sample): void;
  /** Delivers within the flush timeout, keeps the rest in the spool and says where. */
  close(exit: ExitInfo): Promise<void>;
}

/** Test hooks: loopback fetch, failing file systems, short timings. */
export interface SinkTestHooks {
  fetch?: typeof fetch;
  spoolFs?: SpoolFs;
  tuning?: Partial<Tuning>;
  cloudWaitMs?: number;
  stdout?: { write(p: Uint8Array): Promise<number> };
  stderr?: { write(p: Uint8Array): Promise<number> };
}

/** One parsed `--sink` value. */
export interface SinkSpec {
  uri: string;
  /** The URI without the `#format=` suffix. */
  target: string;
  format: Format;
  kind: SinkKind;
}

interface Built {
  ctx: SinkContext;
  deps: RemoteDeps;
  hooks: SinkTestHooks;
  redactor: Redactor;
  intervalSecs: number;
  file: { maxSize: number | null; maxFiles: number };
}

export interface SinkKind {
  readonly name: string;
  readonly help: string;
  matches(uri: string): boolean;
  /** Default format when the URI does not say. */
  defaultFormat(target: string, config: Config): Format;
  /** Checks the URI and what it needs from the environment; throws a plain message. */
  validate(spec: SinkSpec, ctx: SinkContext): void;
  create(spec: SinkSpec, b: Built): Promise<Sink>;
}

const SCHEME_RE = /^[a-z][a-z0-9+.-]*:\/\//i;

function filePath(target: string): string {
  return target.startsWith("file://") ? decodeURIComponent(new URL(target).pathname) : target;
}

export const SINKS: readonly SinkKind[] = [
  {
    name: "stdout",
    help: "standard output (`-` too)",
    matches: (u) => u === "stdout" || u === "-",
    defaultFormat: (_t, c) => c.format,
    validate() {},
    create: (s, b) =>
      Promise.resolve(
        createStreamSink(
          "stdout",
          createEncoder(s.format, b.intervalSecs),
          b.deps.warn,
          b.hooks.stdout,
        ),
      ),
  },
  {
    name: "stderr",
    help: "standard error",
    matches: (u) => u === "stderr",
    defaultFormat: (_t, c) => c.format,
    validate() {},
    create: (s, b) =>
      Promise.resolve(
        createStreamSink(
          "stderr",
          createEncoder(s.format, b.intervalSecs),
          b.deps.warn,
          b.hooks.stderr,
        ),
      ),
  },
  {
    name: "s3",
    help: "s3://BUCKET/PREFIX: gzip CSV batches (AWS_* credentials)",
    matches: (u) => /^s3:\/\//i.test(u),
    defaultFormat: () => "csv",
    validate(spec, ctx) {
      // Light check here; the module itself loads only when a sink is created.
      const m = /^s3:\/\/([^/]*)(\/|$)/i.exec(spec.target);
      if (!m || m[1] === "") throw new Error("expected s3://BUCKET/PREFIX");
      const problem = bucketProblem(m[1]!);
      if (problem) throw new Error(`bucket name ${JSON.stringify(m[1])} ${problem}`);
      if (!ctx.env("AWS_ACCESS_KEY_ID") || !ctx.env("AWS_SECRET_ACCESS_KEY")) {
        throw new Error("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set");
      }
    },
    async create(s, b) {
      const { createS3Sink } = await import("./s3.ts");
      return createS3Sink(s.target, s.format, b.intervalSecs, b.deps, b.ctx.run);
    },
  },
  {
    name: "http",
    help: "http(s)://URL: POSTs gzip JSON Lines batches",
    matches: (u) => /^https?:\/\//i.test(u),
    defaultFormat: () => "json",
    validate(spec, ctx) {
      let url: URL;
      try {
        url = new URL(spec.target);
      } catch {
        throw new Error("not a valid URL");
      }
      const tokenEnv = setting<string>(ctx.config, "http-token-env", "TRACKER_HTTP_TOKEN");
      if ((url.username || url.password) && ctx.env(tokenEnv)) {
        throw new Error(`the URL has user info and ${tokenEnv} is set: use one of them`);
      }
    },
    async create(s, b) {
      const { createHttpSink } = await import("./http.ts");
      const tokenEnv = setting<string>(b.ctx.config, "http-token-env", "TRACKER_HTTP_TOKEN");
      b.redactor.add(b.ctx.env(tokenEnv));
      if (b.ctx.env(tokenEnv)) {
        const { plainTokenWarning } = await import("./plain_http.ts");
        const plain = plainTokenWarning(redactUrl(s.target), s.target);
        if (plain) b.deps.warn(plain);
      }
      return createHttpSink(s.target, s.format, b.intervalSecs, tokenEnv, b.deps, {
        metadata: { ...b.ctx.run.metadata },
        tags: { ...b.ctx.run.tags },
      });
    },
  },
  {
    name: "prometheus+remote-write",
    help:
      "prometheus+remote-write://HOST:PORT/api/v1/write: Prometheus remote write (snappy protobuf)",
    matches: (u) => /^prometheus\+remote-write(\+https)?:\/\//i.test(u),
    defaultFormat: () => "json",
    validate(spec) {
      // Light check here; the module itself loads only when a sink is created.
      const url = schemeToHttp(spec.target);
      if (url.pathname === "/") throw new Error("expected the write path, e.g. /api/v1/write");
    },
    async create(s, b) {
      const { createRemoteWriteSink } = await import("./remote_write.ts");
      const tokenEnv = setting<string>(b.ctx.config, "http-token-env", "TRACKER_HTTP_TOKEN");
      b.redactor.add(b.ctx.env(tokenEnv));
      return createRemoteWriteSink(s.target, b.ctx.run, tokenEnv, b.deps);
    },
  },
  {
    name: "otlp",
    help: "otlp+http://HOST:4318 or otlp+https://…: OpenTelemetry metrics to <base>/v1/metrics",
    matches: (u) => /^otlp\+https?:\/\//i.test(u),
    defaultFormat: () => "json",
    validate(spec) {
      const url = schemeToHttp(spec.target.replace(/#protocol=http\/(protobuf|json)$/i, ""));
      if (url.hash) throw new Error("the only fragment understood is #protocol=http/json");
    },
    async create(s, b) {
      const { createOtlpSink, otlpHeaders } = await import("./otlp.ts");
      for (const v of Object.values(otlpHeaders(b.ctx.env))) b.redactor.add(v);
      return createOtlpSink(s.target, b.ctx.run, b.deps);
    },
  },
  {
    name: "file",
    help: "a file path or file:// URL (.jsonl/.csv, compressed when .gz/.zst)",
    matches: (u) => !SCHEME_RE.test(u) || /^file:\/\//i.test(u),
    defaultFormat: (t, c) => fileKind(filePath(t)).format ?? c.format,
    validate(spec) {
      const p = filePath(spec.target);
      if (p === "" || p.endsWith("/")) throw new Error("expected a file path");
    },
    create(s, b) {
      const path = filePath(s.target);
      return Promise.resolve(createFileSink({
        path,
        format: s.format,
        compression: fileKind(path).compression,
        intervalSecs: b.intervalSecs,
        warn: b.deps.warn,
        maxSize: b.file.maxSize,
        maxFiles: b.file.maxFiles,
      }));
    },
  },
];

/**
 * What makes two file names the same file: device and inode when it exists (`./x.csv` and
 * `x.csv`, hard links), else the normalized absolute path. Null for devices (/dev/null twice is
 * fine).
 */
function fileIdentity(path: string): string | null {
  try {
    const st = Deno.statSync(path);
    return st.isCharDevice ? null : `${st.dev}:${st.ino}`;
  } catch { /* not there yet */ }
  const abs = path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
  const out: string[] = [];
  for (const part of abs.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return "/" + out.join("/");
}

/** `otlp+http://…`, `prometheus+remote-write+https://…` → the http(s) URL; throws a plain message. */
function schemeToHttp(uri: string): URL {
  const tls = /^[a-z+-]*\+https:\/\//i.test(uri);
  let url: URL;
  try {
    url = new URL(uri.replace(/^[a-z0-9+.-]*:\/\//i, tls ? "https://" : "http://"));
  } catch {
    throw new Error("not a valid URL");
  }
  if (!url.hostname) throw new Error("expected a host");
  return url;
}

/** A resolved option value, or the fallback when the option is not registered. */
function setting<T>(config: Config, name: string, fallback: T): T {
  const v = config.values.get(name);
  return v === undefined ? fallback : v as T;
}

const FORMAT_SUFFIX = /#format=(json|jsonl|ndjson|csv)$/i;

/** Parses one `--sink` value; a bad one is a usage error naming it (redacted). */
export function parseSinkUri(uri: string, ctx: SinkContext): SinkSpec {
  const bad = (why: string) => new UsageError(`--sink ${redactUrl(uri)}: ${why}`);
  const raw = uri.trim();
  if (raw === "") throw bad("empty value");
  const m = FORMAT_SUFFIX.exec(raw);
  const target = m ? raw.slice(0, m.index) : raw;
  const kind = SINKS.find((k) => k.matches(target));
  if (!kind) {
    throw bad(`unsupported scheme (use ${SINKS.map((k) => k.name).join(", ")})`);
  }
  const f = m?.[1]?.toLowerCase();
  const spec: SinkSpec = {
    uri: raw,
    target,
    kind,
    format: f ? (f === "csv" ? "csv" : "json") : kind.defaultFormat(target, ctx.config),
  };
  try {
    kind.validate(spec, ctx);
  } catch (err) {
    throw bad(errorText(err));
  }
  return spec;
}

function spoolRoot(ctx: SinkContext): string {
  return setting<string | null>(ctx.config, "spool-dir", null) ?? defaultSpoolDir(ctx.env);
}

/**
 * `base` with our User-Agent on every request. The module loads with the first request, so
 * runs without a remote sink never load it (start-up import graph, tests/startup_test.ts).
 */
function identified(base: typeof fetch): typeof fetch {
  let wrapped: typeof fetch | null = null;
  return async (input, init) => {
    wrapped ??= (await import("../base/user_agent.ts")).withUserAgent(base);
    return await wrapped(input, init);
  };
}

function build(ctx: SinkContext, hooks: SinkTestHooks, redactor: Redactor): Built {
  const warn = redactor.wrap(ctx.warn);
  const uploadSecs = setting<number>(ctx.config, "upload-interval", 60);
  return {
    ctx,
    hooks,
    redactor,
    intervalSecs: ctx.config.interval,
    file: {
      maxSize: setting<number | null>(ctx.config, "max-size", null),
      maxFiles: setting<number>(ctx.config, "max-files", 5),
    },
    deps: {
      env: ctx.env,
      warn,
      fetch: identified(hooks.fetch ?? fetch),
      tuning: { ...DEFAULT_TUNING, intervalMs: uploadSecs * 1000, ...hooks.tuning },
      spoolRoot: spoolRoot(ctx),
      ...(hooks.spoolFs ? { spoolFs: hooks.spoolFs } : {}),
    },
  };
}

function secretsOf(ctx: SinkContext, redactor: Redactor): void {
  for (
    const name of [
      "SENTINEL_API_TOKEN",
      "SENTINEL_API_KEY",
      "AWS_SECRET_ACCESS_KEY",
      "AWS_SESSION_TOKEN",
      "AWS_ACCESS_KEY_ID",
    ]
  ) redactor.add(ctx.env(name));
}

/**
 * Builds every output: the default stream (unless `--quiet`), each `--sink`, and Sentinel when
 * `SENTINEL_API_TOKEN`/`SENTINEL_API_KEY` is set. All URIs are validated before anything opens.
 */
export async function createSinks(ctx: SinkContext, hooks: SinkTestHooks = {}): Promise<SinkSet> {
  const redactor = new Redactor();
  secretsOf(ctx, redactor);
  for (const flag of ["list", "drop", "all-rejected"]) {
    const v = ctx.config.values.get(flag);
    if (v === true || (Array.isArray(v) && v.length > 0)) {
      throw new UsageError(`--${flag} belongs to \`resource-tracker flush\``);
    }
  }
  const uris = setting<string[]>(ctx.config, "sink", []);
  const specs = uris.map((u) => parseSinkUri(u, ctx));
  const c = ctx.config;
  // With --live the terminal shows the view: samples go only where --output/--sink says.
  if (!c.quiet && !(c.values.get("live") === true && c.output === null)) {
    const out = c.output === null ? "stderr" : c.output === "-" ? "stdout" : c.output;
    const kind = SINKS.find((k) => k.matches(out))!;
    // --output keeps R's meaning: the format comes from --format, never from the name.
    specs.unshift({ uri: out, target: out, format: c.format, kind });
  }
  const files = specs.filter((s) => s.kind.name === "file").map((s) => filePath(s.target));
  const keys = files.map(fileIdentity);
  const dupAt = keys.findIndex((k, i) => k !== null && keys.indexOf(k) !== i);
  if (dupAt >= 0) {
    throw new UsageError(`--sink ${files[dupAt]}: the same file is named twice`);
  }

  const b = build(ctx, hooks, redactor);
  const sinks: Sink[] = [];
  try {
    for (const spec of specs) sinks.push(await spec.kind.create(spec, b));
    if (c.values.get("listen") || c.values.get("live") === true) {
      const { viewSinks } = await import("../serve/views.ts");
      sinks.push(...await viewSinks(ctx, specs.map((s) => redactUrl(s.target))));
    }
    const token = sentinelToken(ctx.env);
    if (token) {
      const { createSentinelSink, sentinelApiUrl } = await import("./sentinel.ts");
      const { plainTokenWarning } = await import("./plain_http.ts");
      const plain = plainTokenWarning("Sentinel", sentinelApiUrl(ctx.env));
      if (plain) b.deps.warn(plain);
      sinks.push(createSentinelSink({
        token,
        run: ctx.run,
        intervalSecs: c.interval,
        deps: b.deps,
        redactor,
        ...(hooks.cloudWaitMs !== undefined ? { cloudWaitMs: hooks.cloudWaitMs } : {}),
      }));
    }
  } catch (err) {
    await Promise.all(sinks.map((s) => s.close({ deadline: Date.now() })));
    throw err;
  }
  return fanOut(sinks, setting<number>(c, "flush-timeout", 10) * 1000, b.deps.warn);
}

/** Hands each sample to every sink; one sink that throws is reported once and dropped. */
export function fanOut(sinks: Sink[], flushTimeoutMs: number, warn: (l: string) => void): SinkSet {
  let live = [...sinks];
  return {
    write(sample) {
      for (const s of live) {
        try {
          s.write(sample);
        } catch (err) {
          warn(`${s.name}: ${errorText(err)}; output stopped`);
          live = live.filter((x) => x !== s);
        }
      }
    },
    async close(exit) {
      const deadline = Date.now() + flushTimeoutMs;
      // A sink stuck on a write no one reads (a full stderr pipe) must not hold up the exit:
      // past the deadline (and a second of grace) it is left behind.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<void>((r) => (timer = setTimeout(r, flushTimeoutMs + 1_000)));
      await Promise.race([
        late,
        Promise.all(
          sinks.map((s) =>
            s.close({ ...exit, deadline }).catch((err) => warn(`${s.name}: ${errorText(err)}`))
          ),
        ),
      ]);
      clearTimeout(timer);
    },
  };
}

/** `resource-tracker flush`: sends what earlier runs left in the spool. Exit 0 when none is left. */
export async function runFlushCommand(
  ctx: SinkContext,
  hooks: SinkTestHooks = {},
): Promise<number> {
  const redactor = new Redactor();
  secretsOf(ctx, redactor);
  const b = build(ctx, hooks, redactor);
  const info = ctx.info ?? ((l: string) => writeAllSync(Deno.stderr, l + "\n"));
  const fs = hooks.spoolFs ?? DENO_FS;
  const drops = setting<string[]>(ctx.config, "drop", []);
  const allRejected = setting<boolean>(ctx.config, "all-rejected", false);
  if (setting<boolean>(ctx.config, "list", false) || drops.length > 0 || allRejected) {
    const admin = await import("./spool_admin.ts");
    const print = ctx.print ?? ((l: string) => writeAllSync(Deno.stdout, l + "\n"));
    const root = b.deps.spoolRoot!;
    let code = 0;
    if (drops.length > 0 || allRejected) {
      const r = await admin.dropFromSpool(root, fs, drops, allRejected);
      for (const l of r.removed) info(redactor.apply(`removed ${l}`));
      for (const id of r.unknown) {
        b.deps.warn(`flush --drop ${id}: no such job or batch in "${root}" (see flush --list)`);
        code = 1;
      }
      if (r.removed.length === 0 && r.unknown.length === 0) info("nothing to remove");
    }
    if (setting<boolean>(ctx.config, "list", false)) {
      const rows = await admin.listSpool(root, fs);
      if (rows.length === 0) info(`the spool "${root}" is empty`);
      else for (const l of admin.formatRows(rows)) print(redactor.apply(l));
    }
    return code;
  }
  const { flushSpool } = await import("./flush.ts");
  return await flushSpool({
    root: b.deps.spoolRoot!,
    deps: b.deps,
    redactor,
    info: redactor.wrap(info),
    timeoutMs: setting<number>(ctx.config, "flush-timeout", 10) * 1000,
    tokenEnv: setting<string>(ctx.config, "http-token-env", "TRACKER_HTTP_TOKEN"),
    sinkUris: setting<string[]>(ctx.config, "sink", []),
    fs,
  });
}
