/**
 * The one Chromium client of the tests: headless Chromium driven over the DevTools protocol,
 * with no network beyond loopback (every other host name fails to resolve). It collects console
 * errors, exceptions and every requested URL, evaluates expressions and takes screenshots.
 * `openInChromium` is the one-shot check of a report page built on it.
 */
import { sleep } from "../base/time.ts";

export function findChromium(): string | null {
  for (const p of ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]) {
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch { /* next */ }
  }
  return null;
}

export interface Browser {
  /** Console errors and assertions, uncaught exceptions and error log entries. */
  errors: string[];
  /** Every URL the page requested, in order. */
  requests: string[];
  /** Opens `url` and waits for its load event. */
  navigate(url: string, timeoutMs?: number): Promise<void>;
  evaluate<T>(expression: string): Promise<T>;
  /** A PNG of the viewport, or of the whole page with `full`. */
  screenshot(o?: { full?: boolean }): Promise<Uint8Array>;
  close(): Promise<void>;
}

export interface LaunchOptions {
  width?: number;
  height?: number;
  /** How long Chromium may take to start. */
  timeoutMs?: number;
}

/** `p`, or a rejection naming `what` after `ms`; the timer is always cleared. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), Math.max(0, ms));
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

export async function launchChromium(bin: string, o: LaunchOptions = {}): Promise<Browser> {
  const dir = await Deno.makeTempDir({ prefix: "rt-chromium-" });
  const child = new Deno.Command(bin, {
    args: [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-extensions",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--metrics-recording-only",
      // Offline: nothing but loopback resolves.
      "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
      "--proxy-server=direct://",
      `--window-size=${o.width ?? 1360},${o.height ?? 1000}`,
      `--user-data-dir=${dir}`,
      "--remote-debugging-port=0",
      "about:blank",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stop = async () => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
    await child.status;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  let ws: WebSocket | undefined;
  try {
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    const deadline = Date.now() + (o.timeoutMs ?? 90_000);
    let log = "";
    let wsUrl: string | null = null;
    while (!wsUrl) {
      const { value, done } = await within(reader.read(), deadline - Date.now(), "chromium start");
      if (done) throw new Error(`chromium exited: ${log.slice(-2000)}`);
      log += value;
      wsUrl = /DevTools listening on (ws:\/\/\S+)/.exec(log)?.[1] ?? null;
    }
    // Keep draining stderr so Chromium never blocks on a full pipe.
    (async () => {
      try {
        while (!(await reader.read()).done) { /* drain */ }
      } catch { /* closed */ }
    })();
    const port = new URL(wsUrl).port;
    const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
    const page = targets.find((t: { type: string }) => t.type === "page");
    ws = new WebSocket(page.webSocketDebuggerUrl);
    await new Promise((resolve, reject) => {
      ws!.onopen = resolve;
      ws!.onerror = reject;
    });
  } catch (err) {
    ws?.close();
    await stop();
    throw err;
  }
  const socket = ws;
  let id = 0;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const errors: string[] = [];
  const requests: string[] = [];
  let loaded: (() => void) | null = null;
  socket.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.id !== undefined) {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) p?.reject(new Error(JSON.stringify(msg.error)));
      else p?.resolve(msg.result);
      return;
    }
    const params = msg.params;
    if (msg.method === "Runtime.consoleAPICalled" && ["error", "assert"].includes(params.type)) {
      errors.push(
        `console.${params.type}: ${
          JSON.stringify(params.args.map((a: { value?: unknown; description?: string }) =>
            a.value ?? a.description
          ))
        }`,
      );
    } else if (msg.method === "Runtime.exceptionThrown") {
      errors.push(
        `exception: ${
          params.exceptionDetails.exception?.description ?? params.exceptionDetails.text
        }`,
      );
    } else if (msg.method === "Log.entryAdded" && params.entry.level === "error") {
      errors.push(`log: ${params.entry.text} ${params.entry.url ?? ""}`);
    } else if (msg.method === "Network.requestWillBeSent") {
      requests.push(params.request.url);
    } else if (msg.method === "Page.loadEventFired") {
      loaded?.();
    }
  };
  const send = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve, reject) => {
      const n = ++id;
      pending.set(n, { resolve, reject });
      socket.send(JSON.stringify({ id: n, method, params }));
    });
  for (const d of ["Runtime.enable", "Log.enable", "Network.enable", "Page.enable"]) await send(d);
  return {
    errors,
    requests,
    async navigate(url, timeoutMs = 60_000) {
      const done = new Promise<void>((r) => (loaded = r));
      await send("Page.navigate", { url });
      await within(done, timeoutMs, "page load");
    },
    async evaluate<T>(expression: string) {
      const r = await send("Runtime.evaluate", { expression, returnByValue: true }) as {
        result: { value: T };
        exceptionDetails?: unknown;
      };
      if (r.exceptionDetails) throw new Error(JSON.stringify(r.exceptionDetails));
      return r.result.value;
    },
    async screenshot(s = {}) {
      const r = await send("Page.captureScreenshot", {
        format: "png",
        ...(s.full ? { captureBeyondViewport: true } : {}),
      }) as { data: string };
      return Uint8Array.from(atob(r.data), (c) => c.charCodeAt(0));
    },
    async close() {
      try {
        socket.close();
      } catch { /* closed */ }
      await stop();
    },
  };
}

export interface PageCheck {
  errors: string[];
  /** URLs the page tried to fetch other than file:, data: and about:. */
  network: string[];
  /** Per chart container: its id and the count of non-blank canvas pixels. */
  charts: { id: string; pixels: number }[];
  loadMs: number;
  screenshot: Uint8Array | null;
}

/** Opens a report page as a person would and reports what it drew and what went wrong. */
export async function openInChromium(
  url: string,
  o: { screenshot?: boolean; width?: number; height?: number; timeoutMs?: number } = {},
): Promise<PageCheck> {
  const bin = findChromium();
  if (!bin) throw new Error("chromium not installed");
  const timeoutMs = o.timeoutMs ?? 60_000;
  const browser = await launchChromium(bin, {
    width: o.width ?? 1200,
    height: o.height ?? 900,
    timeoutMs,
  });
  try {
    const t0 = performance.now();
    await browser.navigate(url, timeoutMs);
    const loadMs = performance.now() - t0;
    await sleep(300); // one more frame for late drawing
    const charts = await browser.evaluate<PageCheck["charts"]>(
      `[...document.querySelectorAll("#charts > div")].map((box) => {
        let pixels = 0;
        for (const c of box.querySelectorAll("canvas")) {
          const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
          for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) pixels++;
        }
        return { id: box.id, pixels };
      })`,
    );
    return {
      errors: browser.errors,
      network: browser.requests.filter((u) => !/^(file|data|about):/.test(u)),
      charts,
      loadMs,
      screenshot: o.screenshot ? await browser.screenshot({ full: true }) : null,
    };
  } finally {
    await browser.close();
  }
}
