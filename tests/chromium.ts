/**
 * Opens a page in headless Chromium through the DevTools protocol, as a person would, with no
 * network (every host name fails to resolve, the proxy is a closed loopback port): collects
 * console errors, exceptions and any request that is not file:/data:, checks that each canvas
 * has drawn pixels, and can take a screenshot.
 */
export function findChromium(): string | null {
  for (const p of ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]) {
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch { /* next */ }
  }
  return null;
}

export interface PageCheck {
  errors: string[];
  /** URLs the page tried to fetch other than file: and data:. */
  network: string[];
  /** Per chart container: its id and the count of non-blank canvas pixels. */
  charts: { id: string; pixels: number }[];
  loadMs: number;
  screenshot: Uint8Array | null;
}

export async function openInChromium(
  url: string,
  o: { screenshot?: boolean; width?: number; height?: number; timeoutMs?: number } = {},
): Promise<PageCheck> {
  const bin = findChromium();
  if (!bin) throw new Error("chromium not installed");
  const profile = await Deno.makeTempDir({ prefix: "rt-chromium-" });
  const proc = new Deno.Command(bin, {
    args: [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--host-resolver-rules=MAP * ~NOTFOUND",
      "--proxy-server=127.0.0.1:9",
      "--remote-debugging-port=0",
      `--user-data-dir=${profile}`,
      `--window-size=${o.width ?? 1200},${o.height ?? 900}`,
      "about:blank",
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const deadline = Date.now() + (o.timeoutMs ?? 60_000);
  let ws: WebSocket | undefined;
  const reader = proc.stderr.pipeThrough(new TextDecoderStream()).getReader();
  try {
    let buf = "", wsUrl = "";
    while (!wsUrl) {
      const r = await Promise.race([
        reader.read(),
        new Promise<never>((_, rej) =>
          setTimeout(() => rej(new Error("chromium did not start")), deadline - Date.now())
        ),
      ]);
      if (r.done) throw new Error(`chromium exited: ${buf.slice(-500)}`);
      buf += r.value;
      wsUrl = /DevTools listening on (ws:\/\/\S+)/.exec(buf)?.[1] ?? "";
    }
    // Keep draining stderr so chromium never blocks on a full pipe.
    (async () => {
      try {
        while (!(await reader.read()).done) { /* drain */ }
      } catch { /* closed */ }
    })();
    const port = new URL(wsUrl).port;
    const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
    const page = list.find((t: { type: string }) => t.type === "page");
    ws = new WebSocket(page.webSocketDebuggerUrl);
    await new Promise((res, rej) => {
      ws!.onopen = res;
      ws!.onerror = rej;
    });
    let id = 0;
    const pending = new Map<number, (m: Record<string, unknown>) => void>();
    const errors: string[] = [], network: string[] = [];
    let loaded: () => void;
    const loadedP = new Promise<void>((r) => (loaded = r));
    ws.onmessage = (e) => {
      const m = JSON.parse(e.data);
      if (m.id && pending.has(m.id)) {
        pending.get(m.id)!(m);
        pending.delete(m.id);
      } else if (m.method === "Page.loadEventFired") loaded();
      else if (m.method === "Runtime.exceptionThrown") {
        errors.push(
          `exception: ${
            m.params.exceptionDetails?.exception?.description ?? m.params.exceptionDetails?.text
          }`,
        );
      } else if (m.method === "Runtime.consoleAPICalled" && m.params.type === "error") {
        errors.push(
          `console.error: ${m.params.args?.map((a: { value?: unknown }) => a.value).join(" ")}`,
        );
      } else if (m.method === "Log.entryAdded" && m.params.entry.level === "error") {
        errors.push(`log: ${m.params.entry.text} ${m.params.entry.url ?? ""}`);
      } else if (m.method === "Network.requestWillBeSent") {
        const u: string = m.params.request.url;
        if (!/^(file|data|about):/.test(u)) network.push(u);
      }
    };
    const send = (method: string, params: Record<string, unknown> = {}) =>
      new Promise<Record<string, unknown>>((res) => {
        const i = ++id;
        pending.set(i, res);
        ws!.send(JSON.stringify({ id: i, method, params }));
      });
    for (const d of ["Page", "Runtime", "Log", "Network"]) await send(`${d}.enable`);
    const t0 = performance.now();
    await send("Page.navigate", { url });
    await Promise.race([
      loadedP,
      new Promise((_, rej) =>
        setTimeout(() => rej(new Error("page did not load")), deadline - Date.now())
      ),
    ]);
    const loadMs = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 300)); // one more frame for late drawing
    const ev = await send("Runtime.evaluate", {
      returnByValue: true,
      expression: `JSON.stringify([...document.querySelectorAll("#charts > div")].map((box) => {
        let pixels = 0;
        for (const c of box.querySelectorAll("canvas")) {
          const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
          for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) pixels++;
        }
        return { id: box.id, pixels };
      }))`,
    });
    const charts = JSON.parse(
      ((ev.result as { result: { value: string } }).result.value) ?? "[]",
    );
    let screenshot: Uint8Array | null = null;
    if (o.screenshot) {
      const m = await send("Page.captureScreenshot", {
        format: "png",
        captureBeyondViewport: true,
      });
      const b64 = (m.result as { data: string }).data;
      screenshot = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    }
    return { errors, network, charts, loadMs, screenshot };
  } finally {
    try {
      ws?.close();
    } catch { /* closed */ }
    try {
      proc.kill("SIGKILL");
    } catch { /* gone */ }
    await proc.status;
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}
