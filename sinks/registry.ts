/**
 * The sink registry: every kind of output in one list. A kind says which `--sink` URIs it takes
 * (or, like Sentinel, which variables switch it on), which variables hold its secrets, and, for
 * the remote kinds that spool, how `flush` sends a spooled job again. Nothing else keeps a list
 * of kinds (docs/ARCHITECTURE.md "Sinks"). The heavy remote modules load with `await import()`
 * only when selected, so the start-up graph holds this file and the local kinds only.
 */
import { errorText, UsageError } from "../base/errors.ts";
import { createEncoder, type Format } from "../formats/mod.ts";
import type { RemoteDeps, Tuning } from "./delivery.ts";
import { createFileSink, fileKind } from "./file.ts";
import { Redactor, redactUrl } from "./redact.ts";
import type { ResumeFn } from "./resume.ts";
import type { S3Meta } from "./s3.ts";
import { bucketProblem } from "./s3_names.ts";
import type { SinkSettings } from "./settings.ts";
import type { RunInfo, Sink } from "./sink.ts";
import type { JobMeta, SpoolFs } from "./spool.ts";
import { createStreamSink } from "./stream.ts";

export interface SinkContext {
  settings: SinkSettings;
  env: (name: string) => string | undefined;
  warn: (line: string) => void;
  run: RunInfo;
  /**
   * The engine's views of the run (`--listen`, `--live`), given where else samples go; called
   * only when the settings ask for one. Sinks never build them (docs/ARCHITECTURE.md "Layers").
   */
  views?: (ctx: SinkContext, destinations: string[]) => Promise<Sink[]>;
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
  kind: UriSinkKind;
}

/** What a kind gets to build its sink. */
export interface SinkBuild {
  ctx: SinkContext;
  hooks: SinkTestHooks;
  redactor: Redactor;
  /** `ctx.warn`, redacted. */
  warn: (line: string) => void;
  /** What the remote kinds share (one object per run); loads the delivery modules on first use. */
  remote(): Promise<RemoteDeps>;
}

/** What a spooled job of this kind is called, and how `flush --list` names its target. */
export interface SpoolKind {
  /** `kind` in job.json. */
  readonly job: string;
  /** The extensions its batch files may have. */
  readonly exts: readonly string[];
  describe(meta: JobMeta): { sink: string; run: string };
}

interface KindBase {
  readonly name: string;
  readonly help: string;
  /** Variables whose values are secrets, redacted from every line we print. */
  secretEnv(settings: SinkSettings): readonly string[];
  /** Set for the kinds whose batches wait in the spool. */
  readonly spool?: SpoolKind;
  /** How `flush` sends a spooled job of this kind (set exactly when `spool` is). */
  readonly resume?: ResumeFn;
}

/** A kind named by a `--sink` URI (or `--output`). */
export interface UriSinkKind extends KindBase {
  matches(uri: string): boolean;
  /** Default format when the URI does not say. */
  defaultFormat(target: string, settings: SinkSettings): Format;
  /** Checks the URI and what it needs from the environment; throws a plain message. */
  validate(spec: SinkSpec, ctx: SinkContext): void;
  create(spec: SinkSpec, b: SinkBuild): Promise<Sink>;
}

/** A kind switched on by the environment (Sentinel: its token). */
export interface EnvSinkKind extends KindBase {
  /** The sink, or null when the environment does not ask for one. */
  fromEnv(b: SinkBuild): Promise<Sink | null>;
}

export type SinkKind = UriSinkKind | EnvSinkKind;

const SCHEME_RE = /^[a-z][a-z0-9+.-]*:\/\//i;

export function filePath(target: string): string {
  return target.startsWith("file://") ? decodeURIComponent(new URL(target).pathname) : target;
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

const AWS_KEYS = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set";

/** The one check that S3 keys are there (before a run, and before `flush` sends a job). */
function awsKeysProblem(env: (name: string) => string | undefined): string | null {
  return env("AWS_ACCESS_KEY_ID") && env("AWS_SECRET_ACCESS_KEY") ? null : AWS_KEYS;
}

/** `SENTINEL_API_TOKEN`, else its alias `SENTINEL_API_KEY`, trimmed; null when neither is set. */
function sentinelTokenOf(env: (name: string) => string | undefined): string | null {
  return env("SENTINEL_API_TOKEN")?.trim() || env("SENTINEL_API_KEY")?.trim() || null;
}

const str = (meta: JobMeta, k: string) => (typeof meta[k] === "string" ? meta[k] as string : "");

/** The stream kinds: samples encoded onto stdout or stderr. */
function streamKind(name: "stdout" | "stderr", help: string, names: string[]): UriSinkKind {
  return {
    name,
    help,
    secretEnv: () => [],
    matches: (u) => names.includes(u),
    defaultFormat: (_t, s) => s.format,
    validate() {},
    create: (spec, b) =>
      Promise.resolve(
        createStreamSink(
          name,
          createEncoder(spec.format, b.ctx.settings.intervalSecs),
          b.warn,
          b.hooks[name],
        ),
      ),
  };
}

/** The metric kinds' batches: frames, not samples (sinks/frames.ts). */
const FRAMES = ["frames.jsonl.gz"];
/** Sample batches: CSV or JSON Lines, gzipped. */
const SAMPLES = ["csv.gz", "jsonl.gz"];

export const SINKS: readonly SinkKind[] = [
  streamKind("stdout", "standard output (`-` too)", ["stdout", "-"]),
  streamKind("stderr", "standard error", ["stderr"]),
  {
    name: "s3",
    help: "s3://BUCKET/PREFIX: gzip CSV batches (AWS_* credentials)",
    secretEnv: () => ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID"],
    matches: (u) => /^s3:\/\//i.test(u),
    defaultFormat: () => "csv",
    validate(spec, ctx) {
      const m = /^s3:\/\/([^/]*)(\/|$)/i.exec(spec.target);
      if (!m || m[1] === "") throw new Error("expected s3://BUCKET/PREFIX");
      const problem = bucketProblem(m[1]!);
      if (problem) throw new Error(`bucket name ${JSON.stringify(m[1])} ${problem}`);
      const keys = awsKeysProblem(ctx.env);
      if (keys) throw new Error(keys);
    },
    async create(s, b) {
      const { createS3Sink } = await import("./s3.ts");
      return createS3Sink(
        s.target,
        s.format,
        b.ctx.settings.intervalSecs,
        await b.remote(),
        b.ctx.run,
      );
    },
    spool: {
      job: "s3",
      exts: SAMPLES,
      describe: (m) => ({
        sink: `s3://${str(m, "bucket")}/${str(m, "prefix")}`.replace(/\/$/, ""),
        run: str(m, "run"),
      }),
    },
    async resume({ job }, r) {
      const keys = awsKeysProblem(r.deps.env);
      if (keys) return { kept: keys };
      const { s3Transport } = await import("./s3.ts");
      return { transport: s3Transport(job.meta as S3Meta, r.deps) };
    },
  },
  {
    name: "http",
    help: "http(s)://URL: POSTs gzip JSON Lines batches",
    secretEnv: (s) => [s.httpTokenEnv],
    matches: (u) => /^https?:\/\//i.test(u),
    defaultFormat: () => "json",
    validate(spec, ctx) {
      let url: URL;
      try {
        url = new URL(spec.target);
      } catch {
        throw new Error("not a valid URL");
      }
      const tokenEnv = ctx.settings.httpTokenEnv;
      if ((url.username || url.password) && ctx.env(tokenEnv)) {
        throw new Error(`the URL has user info and ${tokenEnv} is set: use one of them`);
      }
    },
    async create(s, b) {
      const { createHttpSink } = await import("./http.ts");
      const { ctx } = b;
      const tokenEnv = ctx.settings.httpTokenEnv;
      if (ctx.env(tokenEnv)) {
        const { plainTokenWarning } = await import("./plain_http.ts");
        const plain = plainTokenWarning(redactUrl(s.target), s.target);
        if (plain) b.warn(plain);
      }
      return createHttpSink(
        s.target,
        s.format,
        ctx.settings.intervalSecs,
        tokenEnv,
        await b.remote(),
        {
          metadata: { ...ctx.run.metadata },
          tags: { ...ctx.run.tags },
        },
      );
    },
    spool: {
      job: "http",
      exts: SAMPLES,
      describe: (m) => ({ sink: redactUrl(str(m, "url")), run: str(m, "run").slice(0, 8) }),
    },
    resume: async (found, r) => (await import("./http.ts")).resumeHttp(found, r),
  },
  {
    name: "prometheus+remote-write",
    help:
      "prometheus+remote-write://HOST:PORT/api/v1/write: Prometheus remote write (snappy protobuf)",
    secretEnv: (s) => [s.httpTokenEnv],
    matches: (u) => /^prometheus\+remote-write(\+https)?:\/\//i.test(u),
    defaultFormat: () => "json",
    validate(spec) {
      const url = schemeToHttp(spec.target);
      if (url.pathname === "/") throw new Error("expected the write path, e.g. /api/v1/write");
    },
    async create(s, b) {
      const { createRemoteWriteSink } = await import("./remote_write.ts");
      const tokenEnv = b.ctx.settings.httpTokenEnv;
      return createRemoteWriteSink(s.target, b.ctx.run, tokenEnv, await b.remote());
    },
    spool: {
      job: "remote-write",
      exts: FRAMES,
      describe: (m) => ({ sink: m.kind, run: "" }),
    },
    resume: async (found, r) => (await import("./remote_write.ts")).resumeRemoteWrite(found, r),
  },
  {
    name: "otlp",
    help: "otlp+http://HOST:4318 or otlp+https://…: OpenTelemetry metrics to <base>/v1/metrics",
    // Header lists (`k=v,…`); create() also masks each value on its own.
    secretEnv: () => ["OTEL_EXPORTER_OTLP_METRICS_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS"],
    matches: (u) => /^otlp\+https?:\/\//i.test(u),
    defaultFormat: () => "json",
    validate(spec) {
      const url = schemeToHttp(spec.target.replace(/#protocol=http\/(protobuf|json)$/i, ""));
      if (url.hash) throw new Error("the only fragment understood is #protocol=http/json");
    },
    async create(s, b) {
      const { createOtlpSink, otlpHeaders } = await import("./otlp.ts");
      for (const v of Object.values(otlpHeaders(b.ctx.env))) b.redactor.add(v);
      return createOtlpSink(s.target, b.ctx.run, await b.remote());
    },
    spool: {
      job: "otlp",
      exts: FRAMES,
      describe: (m) => ({ sink: m.kind, run: "" }),
    },
    resume: async (found, r) => (await import("./otlp.ts")).resumeOtlp(found, r),
  },
  {
    name: "file",
    help: "a file path or file:// URL (.jsonl/.csv, compressed when .gz/.zst)",
    secretEnv: () => [],
    matches: (u) => !SCHEME_RE.test(u) || /^file:\/\//i.test(u),
    defaultFormat: (t, s) => fileKind(filePath(t)).format ?? s.format,
    validate(spec) {
      const p = filePath(spec.target);
      if (p === "" || p.endsWith("/")) throw new Error("expected a file path");
    },
    create(s, b) {
      const path = filePath(s.target);
      const { settings } = b.ctx;
      return Promise.resolve(createFileSink({
        path,
        format: s.format,
        compression: fileKind(path).compression,
        intervalSecs: settings.intervalSecs,
        warn: b.warn,
        maxSize: settings.maxSizeBytes,
        maxFiles: settings.maxFiles,
      }));
    },
  },
  {
    name: "sentinel",
    help: "Spare Cores Sentinel, when SENTINEL_API_TOKEN (or SENTINEL_API_KEY) is set",
    secretEnv: () => ["SENTINEL_API_TOKEN", "SENTINEL_API_KEY"],
    async fromEnv(b) {
      const token = sentinelTokenOf(b.ctx.env);
      if (!token) return null;
      const { createSentinelSink, sentinelApiUrl } = await import("./sentinel.ts");
      const { plainTokenWarning } = await import("./plain_http.ts");
      const deps = await b.remote();
      const plain = plainTokenWarning("Sentinel", sentinelApiUrl(b.ctx.env));
      if (plain) b.warn(plain);
      return createSentinelSink({
        token,
        run: b.ctx.run,
        intervalSecs: b.ctx.settings.intervalSecs,
        deps,
        redactor: b.redactor,
        ...(b.hooks.cloudWaitMs !== undefined ? { cloudWaitMs: b.hooks.cloudWaitMs } : {}),
      });
    },
    spool: {
      job: "sentinel",
      exts: ["csv.gz"],
      describe: (m) => ({
        sink: `Sentinel ${redactUrl(str(m, "apiUrl"))}`,
        run: str(m, "runId") || "(not registered)",
      }),
    },
    resume: async (found, r) => (await import("./sentinel_resume.ts")).resumeSentinel(found, r),
  },
];

/** The kinds a `--sink` URI can name, in the order they are tried. */
export const URI_KINDS: readonly UriSinkKind[] = SINKS.filter((k): k is UriSinkKind =>
  "matches" in k
);

/** The kinds switched on by the environment. */
export const ENV_KINDS: readonly EnvSinkKind[] = SINKS.filter((k): k is EnvSinkKind =>
  "fromEnv" in k
);

/** The kind whose jobs job.json names `kind: job`. */
export function spoolKind(job: string): SinkKind | undefined {
  return SINKS.find((k) => k.spool?.job === job);
}

/** What the spool accepts in job.json (`kind` and its batch extensions), from the kinds above. */
export const SPOOLED: ReadonlyMap<string, readonly string[]> = new Map(
  SINKS.flatMap((k) => k.spool ? [[k.spool.job, k.spool.exts] as const] : []),
);

const FORMAT_SUFFIX = /#format=(json|jsonl|ndjson|csv)$/i;

/** Parses one `--sink` value; a bad one is a usage error naming it (redacted). */
export function parseSinkUri(uri: string, ctx: SinkContext): SinkSpec {
  const bad = (why: string) => new UsageError(`--sink ${redactUrl(uri)}: ${why}`);
  const raw = uri.trim();
  if (raw === "") throw bad("empty value");
  const m = FORMAT_SUFFIX.exec(raw);
  const target = m ? raw.slice(0, m.index) : raw;
  const kind = URI_KINDS.find((k) => k.matches(target));
  if (!kind) {
    throw bad(`unsupported scheme (use ${URI_KINDS.map((k) => k.name).join(", ")})`);
  }
  const f = m?.[1]?.toLowerCase();
  const spec: SinkSpec = {
    uri: raw,
    target,
    kind,
    format: f ? (f === "csv" ? "csv" : "json") : kind.defaultFormat(target, ctx.settings),
  };
  try {
    kind.validate(spec, ctx);
  } catch (err) {
    throw bad(errorText(err));
  }
  return spec;
}

/** A redactor that knows every kind's secrets from the environment. */
export function secretRedactor(
  settings: SinkSettings,
  env: (name: string) => string | undefined,
): Redactor {
  const redactor = new Redactor();
  for (const k of SINKS) for (const name of k.secretEnv(settings)) redactor.add(env(name));
  return redactor;
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

/** What remote sinks and `flush` share: timings, the spool, fetch, the redacted warn. */
export async function remoteDeps(
  ctx: Pick<SinkContext, "settings" | "env">,
  hooks: SinkTestHooks,
  warn: (line: string) => void,
): Promise<RemoteDeps> {
  const [{ DEFAULT_TUNING }, { defaultSpoolDir }] = await Promise.all([
    import("./delivery.ts"),
    import("./spool.ts"),
  ]);
  const { settings } = ctx;
  return {
    env: ctx.env,
    warn,
    fetch: identified(hooks.fetch ?? fetch),
    tuning: { ...DEFAULT_TUNING, intervalMs: settings.uploadIntervalSecs * 1000, ...hooks.tuning },
    spoolRoot: settings.spoolDir ?? defaultSpoolDir(ctx.env),
    ...(hooks.spoolFs ? { spoolFs: hooks.spoolFs } : {}),
  };
}
