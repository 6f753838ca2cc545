/**
 * Headless Chromium driven over the DevTools protocol: open a page with every host but
 * loopback unresolvable, collect console errors, exceptions and requested URLs, evaluate
 * expressions and take screenshots.
 */
export interface Browser {
  errors: string[];
  requests: string[];
  navigate(url: string): Promise<void>;
  evaluate<T>(expression: string): Promise<T>;
  screenshot(): Promise<Uint8Array>;
  close(): Promise<void>;
}

export async function launchChromium(bin: string): Promise<Browser> {
  const dir = await Deno.makeTempDir({ prefix: "rt-chromium-" });
  const child = new Deno.Command(bin, {
    args: [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--no-first-run",
      "--disable-extensions",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--metrics-recording-only",
      // Offline: nothing but loopback resolves.
      "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
      "--proxy-server=direct://",
      "--window-size=1360,1000",
      `--user-data-dir=${dir}`,
      "--remote-debugging-port=0",
      "about:blank",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let log = "";
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const t0 = Date.now();
  let wsUrl: string | null = null;
  while (!wsUrl) {
    const { value, done } = await Promise.race([
      reader.read(),
      new Promise<{ value: undefined; done: true }>((r) =>
        setTimeout(() => r({ value: undefined, done: true }), 90_000 - (Date.now() - t0))
      ),
    ]);
    if (done) {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      await child.status;
      throw new Error(`chromium did not start: ${log.slice(-2000)}`);
    }
    log += value;
    wsUrl = /DevTools listening on (ws:\/\/\S+)/.exec(log)?.[1] ?? null;
  }
  // Keep draining stderr so Chromium never blocks on a full pipe.
  (async () => {
    try {
      for (;;) if ((await reader.read()).done) break;
    } catch { /* closed */ }
  })();
  const port = new URL(wsUrl).port;
  const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const page = targets.find((t: { type: string }) => t.type === "page");
  const ws = new WebSocket(page.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let id = 0;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const errors: string[] = [];
  const requests: string[] = [];
  let loaded: (() => void) | null = null;
  ws.onmessage = (ev) => {
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
      ws.send(JSON.stringify({ id: n, method, params }));
    });
  for (const d of ["Runtime.enable", "Log.enable", "Network.enable", "Page.enable"]) await send(d);
  return {
    errors,
    requests,
    async navigate(url) {
      const done = new Promise<void>((r) => (loaded = r));
      await send("Page.navigate", { url });
      await done;
    },
    async evaluate<T>(expression: string) {
      const r = await send("Runtime.evaluate", { expression, returnByValue: true }) as {
        result: { value: T };
        exceptionDetails?: unknown;
      };
      if (r.exceptionDetails) throw new Error(JSON.stringify(r.exceptionDetails));
      return r.result.value;
    },
    async screenshot() {
      const r = await send("Page.captureScreenshot", { format: "png" }) as { data: string };
      return Uint8Array.from(atob(r.data), (c) => c.charCodeAt(0));
    },
    async close() {
      try {
        ws.close();
      } catch { /* closed */ }
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
