/**
 * `resource-tracker replay FILE… --sink URI…`: sends a recorded JSON Lines run to sinks later
 * (e.g. a run made offline, to S3 or Sentinel), samples unchanged, original timestamps kept.
 * Run metadata, host and cloud facts come from the sidecar (`FILE.run.json`) when present.
 */
import { loadConfigLazily } from "./config.ts";
import { UsageError } from "../base/errors.ts";
import type { Sample } from "../base/sample.ts";
import { EMPTY_CLOUD } from "../clouds/types.ts";
import { createSinks } from "../sinks/mod.ts";
import { sentinelToken } from "../sinks/sink.ts";
import { sinkSettings } from "./settings.ts";
import { lines, readRecordingBytes, sidecarCandidates } from "../report/read.ts";
import type { RunRecord } from "../report/series.ts";

const REPLAY_HELP = `Usage:
  resource-tracker replay FILE... --sink URI [--sink URI...] [OPTIONS]

Sends the samples of a recorded JSON Lines run (pieces of a rotated output and .gz/.zst too)
to the sinks, keeping their timestamps; Sentinel too when SENTINEL_API_TOKEN is set. Metadata,
host and cloud facts come from FILE.run.json when it exists.
`;

async function samplesOf(files: readonly string[]): Promise<Sample[]> {
  const out: Sample[] = [];
  for (const f of files) {
    const bytes = await readRecordingBytes(f);
    let first = true;
    for (const line of lines(bytes)) {
      if (line.trim() === "") continue;
      if (first && !line.trimStart().startsWith("{")) {
        throw new UsageError(`replay: ${f} is not JSON Lines; replay needs the JSON recording`);
      }
      first = false;
      try {
        const s = JSON.parse(line);
        if (s && s.cpu && s.memory) out.push(s as Sample);
      } catch { /* a half-written last line */ }
    }
  }
  const seen = new Set<number>();
  const key = (s: Sample) => s.timestamp_ms ?? s.timestamp_secs * 1000;
  return out.sort((a, b) => key(a) - key(b)).filter((s) => !seen.has(key(s)) && !!seen.add(key(s)));
}

async function sidecar(files: readonly string[]): Promise<RunRecord | null> {
  for (const c of files.flatMap(sidecarCandidates)) {
    try {
      const r = JSON.parse(await Deno.readTextFile(c));
      if (r?.resource_tracker_run === 1) return r;
    } catch { /* next */ }
  }
  return null;
}

export async function runReplayCommand(
  args: readonly string[],
  deps: { version: string; env: (n: string) => string | undefined; warn: (l: string) => void },
): Promise<number> {
  if (args.includes("-h") || args.includes("--help")) {
    await Deno.stdout.write(new TextEncoder().encode(REPLAY_HELP));
    return 0;
  }
  const files: string[] = [], flags: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith("-") && a !== "-") {
      if (a.includes("=") || /^--(no-|quiet)/.test(a)) flags.push(a);
      else if (i + 1 < args.length) flags.push(`${a}=${args[++i]}`);
      else throw new UsageError(`replay: option ${a} needs a value`);
    } else files.push(a);
  }
  if (files.length === 0) throw new UsageError("replay: name the recording FILE");
  const config = await loadConfigLazily({
    args: [...flags.map((f) => f.replace(/^-o=/, "--output=")), "--quiet"],
    env: deps.env,
    subcommands: [],
    readFile: (p) => Deno.readTextFileSync(p),
    warn: deps.warn,
  });
  const sinksGiven = sinkSettings(config).uris.length;
  const token = sentinelToken(deps.env);
  if (sinksGiven === 0 && !token) {
    throw new UsageError("replay: name at least one --sink URI (or set SENTINEL_API_TOKEN)");
  }
  const samples = await samplesOf(files);
  if (samples.length === 0) throw new UsageError(`replay: no samples in ${files.join(", ")}`);
  const run = await sidecar(files);
  const sinks = await createSinks({
    settings: sinkSettings(config),
    views: async (ctx, destinations) =>
      (await import("../core/views.ts")).viewSinks(ctx, destinations),
    env: deps.env,
    warn: deps.warn,
    run: {
      metadata: { ...config.metadata, ...(run?.metadata ?? {}) },
      tags: { ...(run?.tags ?? {}), ...config.tags },
      command: run?.command ?? null,
      host: () => Promise.resolve({ ...(run?.host ?? {}) }),
      cloud: () => Promise.resolve({ ...EMPTY_CLOUD, ...(run?.cloud ?? {}) }),
    },
  });
  for (const s of samples) sinks.write(s);
  await sinks.close({ exitCode: run?.exit_code ?? 0 });
  deps.warn(`replay: ${samples.length} samples sent`);
  return 0;
}
