/**
 * `--live`: the run drawn on the terminal, redrawn in place after each sample. It uses the
 * alternate screen (like `top`), so the terminal is left as it was when the run ends; the
 * cursor comes back even if the process exits without closing its sinks.
 */
import denoJson from "../deno.json" with { type: "json" };
import type { Sample } from "../base/sample.ts";
import type { SinkContext } from "../sinks/mod.ts";
import type { Sink } from "../sinks/sink.ts";
import { type LiveState, renderLive } from "./render.ts";

const ENTER = "\x1b[?1049h\x1b[?25l";
const LEAVE = "\x1b[?25h\x1b[?1049l";
const enc = new TextEncoder();

export interface LiveSinkOptions {
  ctx: SinkContext;
  destinations: string[];
  /** Test hook: the terminal. */
  term?: { writeSync(p: Uint8Array): number; isTerminal(): boolean };
  size?: () => { columns: number; rows: number };
}

function writeAll(t: { writeSync(p: Uint8Array): number }, text: string): void {
  let buf = enc.encode(text);
  while (buf.length > 0) buf = buf.subarray(t.writeSync(buf));
}

export function createLiveSink(o: LiveSinkOptions): Sink {
  const term = o.term ?? (Deno.stdout.isTerminal() ? Deno.stdout : Deno.stderr);
  const size = o.size ?? (() => {
    try {
      return Deno.consoleSize();
    } catch {
      return { columns: 80, rows: 24 };
    }
  });
  if (!term.isTerminal()) {
    o.ctx.warn("--live: no terminal to draw on; live view off");
    return { name: "live", write() {}, close: () => Promise.resolve() };
  }
  const started = Date.now();
  const st: LiveState = {
    version: denoJson.version,
    jobName: o.ctx.run.metadata.job_name ?? null,
    elapsedSecs: 0,
    samples: 0,
    intervalSecs: o.ctx.settings.intervalSecs,
    treeUserSecs: 0,
    treeSystemSecs: 0,
    treeReadBytes: 0,
    treeWriteBytes: 0,
    destinations: o.destinations,
  };
  let active = true;
  const restore = () => {
    if (!active) return;
    active = false;
    try {
      writeAll(term, LEAVE);
    } catch { /* terminal gone */ }
  };
  globalThis.addEventListener("unload", restore);
  const draw = (s: Sample | null) => {
    const { columns, rows } = size();
    st.elapsedSecs = (Date.now() - started) / 1000;
    const lines = renderLive(s, st, columns, rows);
    // Home, then each line cleared to its end, then the rest of the screen cleared.
    writeAll(term, `\x1b[H${lines.map((l) => `${l}\x1b[K`).join("\r\n")}\x1b[J`);
  };
  writeAll(term, ENTER);
  draw(null);
  return {
    name: "live",
    write(s) {
      if (!active) return;
      const c = s.cpu;
      st.samples++;
      st.treeUserSecs += c.process_utime_secs ?? 0;
      st.treeSystemSecs += c.process_stime_secs ?? 0;
      st.treeReadBytes += c.process_disk_read_bytes ?? 0;
      st.treeWriteBytes += c.process_disk_write_bytes ?? 0;
      try {
        draw(s);
      } catch {
        restore();
      }
    },
    close() {
      restore();
      globalThis.removeEventListener("unload", restore);
      return Promise.resolve();
    },
  };
}
