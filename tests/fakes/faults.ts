/** Scriptable faults shared by the loopback fakes. */

export interface Fault {
  /** Answer with this status instead of handling the request. */
  status?: number;
  /** Wait this long first (aborted when the client goes away). */
  delayMs?: number;
  /** Handle the request normally but only after the delay (a slow success). */
  slowOk?: boolean;
}

export class Faults {
  /** Used once each, in order, before `always`. */
  queue: Fault[] = [];
  /** Applied to every request while set (an outage). */
  always: Fault | null = null;

  next(): Fault | null {
    return this.queue.shift() ?? this.always;
  }
}

export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Applies a fault; returns a response to send, or null to handle the request normally. */
export async function applyFault(f: Fault | null, req: Request): Promise<Response | null> {
  if (!f) return null;
  if (f.delayMs) await delay(f.delayMs);
  if (f.slowOk || f.status === undefined) return null;
  if (!req.bodyUsed) await req.body?.cancel();
  return new Response(`fault ${f.status}`, { status: f.status });
}

/** A loopback server on a free port. */
export function serve(handler: (req: Request) => Promise<Response> | Response, port = 0) {
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, handler);
  const addr = server.addr as Deno.NetAddr;
  return { server, url: `http://127.0.0.1:${addr.port}`, port: addr.port };
}

/** A loopback port with nothing listening (connection refused). */
export function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}
