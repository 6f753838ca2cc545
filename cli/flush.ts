/** `resource-tracker flush`: sends what earlier runs left in the spool. Exit 0 when none is left. */
import { writeAllSync } from "../base/log.ts";
import { remoteDeps, secretRedactor, type SinkTestHooks } from "../sinks/mod.ts";
import type { FlushSettings, SinkSettings } from "../sinks/settings.ts";
import { DENO_FS } from "../sinks/spool.ts";
import type { Config } from "./config.ts";
import { flushSettings, sinkSettings } from "./settings.ts";

export interface FlushContext {
  settings: SinkSettings;
  flush: FlushSettings;
  env: (name: string) => string | undefined;
  warn: (line: string) => void;
  /** Progress lines (default: stderr, unprefixed). */
  info?: (line: string) => void;
  /** Output of `--list` (default: stdout). */
  print?: (line: string) => void;
}

export async function runFlushCommand(
  ctx: FlushContext,
  hooks: SinkTestHooks = {},
): Promise<number> {
  const { settings, flush } = ctx;
  const redactor = secretRedactor(settings, ctx.env);
  const deps = await remoteDeps(ctx, hooks, redactor.wrap(ctx.warn));
  const info = ctx.info ?? ((l: string) => writeAllSync(Deno.stderr, l + "\n"));
  const fs = hooks.spoolFs ?? DENO_FS;
  const root = deps.spoolRoot!;
  if (flush.list || flush.drop.length > 0 || flush.allRejected) {
    const admin = await import("../sinks/spool_admin.ts");
    const print = ctx.print ?? ((l: string) => writeAllSync(Deno.stdout, l + "\n"));
    let code = 0;
    if (flush.drop.length > 0 || flush.allRejected) {
      const r = await admin.dropFromSpool(root, fs, flush.drop, flush.allRejected);
      for (const l of r.removed) info(redactor.apply(`removed ${l}`));
      for (const id of r.unknown) {
        deps.warn(`flush --drop ${id}: no such job or batch in "${root}" (see flush --list)`);
        code = 1;
      }
      if (r.removed.length === 0 && r.unknown.length === 0) info("nothing to remove");
    }
    if (flush.list) {
      const rows = await admin.listSpool(root, fs);
      if (rows.length === 0) info(`the spool "${root}" is empty`);
      else for (const l of admin.formatRows(rows)) print(redactor.apply(l));
    }
    return code;
  }
  const { flushSpool } = await import("../sinks/flush.ts");
  return await flushSpool({
    root,
    deps,
    redactor,
    info: redactor.wrap(info),
    timeoutMs: settings.flushTimeoutSecs * 1000,
    tokenEnv: settings.httpTokenEnv,
    sinkUris: settings.uris,
    fs,
  });
}

/** `resource-tracker flush`, from the resolved configuration. */
export function flushCommand(
  config: Config,
  env: (name: string) => string | undefined,
  warn: (line: string) => void,
): Promise<number> {
  return runFlushCommand({
    settings: sinkSettings(config),
    flush: flushSettings(config),
    env,
    warn,
  });
}
