/** A loopback HTTP server that records every request as it came (raw body, headers, URL). */
import { type Loopback, serve } from "./loopback.ts";

export interface Recorded {
  method: string;
  url: string;
  authorization: string | null;
  body: Uint8Array;
}

export class Recorder {
  readonly requests: Recorded[] = [];
  #srv: Loopback;

  /** `answer` decides each response (default 204). */
  constructor(
    answer: (req: Request, n: number) => Response | Promise<Response> = () =>
      new Response(null, { status: 204 }),
  ) {
    this.#srv = serve(async (req) => {
      const body = new Uint8Array(await req.arrayBuffer());
      this.requests.push({
        method: req.method,
        url: req.url,
        authorization: req.headers.get("authorization"),
        body,
      });
      return await answer(req, this.requests.length);
    });
  }

  get url(): string {
    return this.#srv.url;
  }

  close(): Promise<void> {
    return this.#srv.close();
  }
}
