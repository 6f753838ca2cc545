/**
 * The sinks' face: `createSinks` builds every output of a run from the typed settings, the
 * registry (./registry.ts) says what each kind is. The R-compatible default stream
 * (`--output`/`--format`/`--quiet`) comes first, then each `--sink`, the engine's views, and the
 * kinds the environment switches on (Sentinel).
 */
import { UsageError } from "../base/errors.ts";
import { fanOut, type SinkSet } from "./fan_out.ts";
import { redactUrl } from "./redact.ts";
import {
  ENV_KINDS,
  filePath,
  parseSinkUri,
  remoteDeps,
  secretRedactor,
  type SinkBuild,
  type SinkContext,
  type SinkSpec,
  type SinkTestHooks,
  URI_KINDS,
} from "./registry.ts";
import type { RemoteDeps } from "./delivery.ts";
import type { Sink } from "./sink.ts";

export type { ExitInfo, SinkSet } from "./fan_out.ts";
export type { SinkContext, SinkSpec, SinkTestHooks } from "./registry.ts";
export { parseSinkUri, remoteDeps, secretRedactor, SINKS } from "./registry.ts";
export type { SinkSettings } from "./settings.ts";
export type { RunInfo, Sink } from "./sink.ts";
export { SINK_OPTIONS } from "./options.ts";

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

/**
 * Builds every output: the default stream (unless `--quiet`), each `--sink`, the views the
 * engine passes in `ctx.views`, and each kind the environment switches on (Sentinel when
 * `SENTINEL_API_TOKEN`/`SENTINEL_API_KEY` is set). All URIs are validated before anything opens.
 */
export async function createSinks(ctx: SinkContext, hooks: SinkTestHooks = {}): Promise<SinkSet> {
  const s = ctx.settings;
  const redactor = secretRedactor(s, ctx.env);
  const specs = s.uris.map((u) => parseSinkUri(u, ctx));
  // With --live the terminal shows the view: samples go only where --output/--sink says.
  if (!s.quiet && !(s.live && s.output === null)) {
    const out = s.output === null ? "stderr" : s.output === "-" ? "stdout" : s.output;
    const kind = URI_KINDS.find((k) => k.matches(out))!;
    // --output keeps R's meaning: the format comes from --format, never from the name.
    specs.unshift({ uri: out, target: out, format: s.format, kind } satisfies SinkSpec);
  }
  const files = specs.filter((sp) => sp.kind.name === "file").map((sp) => filePath(sp.target));
  const keys = files.map(fileIdentity);
  const dupAt = keys.findIndex((k, i) => k !== null && keys.indexOf(k) !== i);
  if (dupAt >= 0) {
    throw new UsageError(`--sink ${files[dupAt]}: the same file is named twice`);
  }

  const warn = redactor.wrap(ctx.warn);
  let remote: Promise<RemoteDeps> | null = null;
  const b: SinkBuild = {
    ctx,
    hooks,
    redactor,
    warn,
    remote: () => (remote ??= remoteDeps(ctx, hooks, warn)),
  };
  const sinks: Sink[] = [];
  try {
    for (const spec of specs) sinks.push(await spec.kind.create(spec, b));
    if (ctx.views && (s.listen || s.live)) {
      sinks.push(...await ctx.views(ctx, specs.map((sp) => redactUrl(sp.target))));
    }
    for (const kind of ENV_KINDS) {
      const sink = await kind.fromEnv(b);
      if (sink) sinks.push(sink);
    }
  } catch (err) {
    await Promise.all(sinks.map((x) => x.close({ deadline: Date.now() })));
    throw err;
  }
  return fanOut(sinks, s.flushTimeoutSecs * 1000, warn);
}
