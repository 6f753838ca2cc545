/**
 * Ordered, bounded, asynchronous line output shared by the stream and file sinks. `write()`
 * only queues; one pump writes whole lines in order. Plain output is written as soon as the
 * pump gets to it (one write per burst, no user-space buffering). Compressed output is written
 * in blocks, each a complete gzip member or zstd frame: concatenated members are a valid file,
 * so the file is readable after any exit, with at most one block missing after a kill.
 */
import { compress, type Compression } from "./compress.ts";
import type { Sample } from "../base/sample.ts";
import type { Encoder } from "../formats/mod.ts";
import { resolveClose, type Sink } from "./sink.ts";
import { shortReason } from "../base/errors.ts";
import { settlesWithin } from "../base/time.ts";

export { compress, type Compression };

const enc = new TextEncoder();

/** Where the bytes go; a file output can also rotate. */
export interface Output {
  write(chunk: Uint8Array): Promise<void>;
  /** Bytes written to the current file (for rotation). */
  readonly size: number;
  /** Starts a new file when `size + next` would pass the limit; returns true if it did. */
  maybeRotate?(next: number): Promise<boolean>;
  close(): void;
}

export interface LineSinkOptions {
  name: string;
  output: Output;
  encoder: Encoder;
  compression: Compression;
  warn: (line: string) => void;
  /** Queue limit; past it new lines are dropped and counted. */
  maxQueuedBytes?: number;
  /** Compressed output: write a block at least this often… */
  blockMs?: number;
  /** …or when this many raw bytes are waiting. */
  blockBytes?: number;
}

export class LineSink implements Sink {
  readonly name: string;
  #o: LineSinkOptions;
  #queue: string[] = [];
  #queued = 0;
  #dropped = 0;
  #failed: string | null = null;
  #pump: Promise<void> | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;
  #needHeader: boolean;
  #closed = false;

  constructor(o: LineSinkOptions) {
    this.name = o.name;
    this.#o = o;
    this.#needHeader = o.encoder.header !== "";
    if (o.compression !== "none") {
      this.#timer = setInterval(() => this.#kick(), o.blockMs ?? 10_000);
    }
  }

  write(sample: Sample): void {
    if (this.#closed || this.#failed) return;
    const line = this.#o.encoder.encode(sample);
    if (this.#queued + line.length > (this.#o.maxQueuedBytes ?? 16 << 20)) {
      if (this.#dropped++ === 0) this.#o.warn(`${this.name}: output is stuck; dropping samples`);
      return;
    }
    this.#queue.push(line);
    this.#queued += line.length;
    if (this.#o.compression === "none" || this.#queued >= (this.#o.blockBytes ?? 256 << 10)) {
      this.#kick();
    }
  }

  #kick(): Promise<void> {
    this.#pump ??= this.#run().finally(() => {
      this.#pump = null;
    });
    return this.#pump;
  }

  async #run(): Promise<void> {
    while (this.#queue.length > 0 && !this.#failed) {
      const text = this.#queue.join("");
      this.#queue = [];
      this.#queued = 0;
      try {
        const chunk = await compress(enc.encode(text), this.#o.compression);
        if (this.#o.output.maybeRotate && this.#o.output.size > 0) {
          if (await this.#o.output.maybeRotate(chunk.length)) this.#needHeader = true;
        }
        if (this.#needHeader) {
          // A member of its own, so every rotated file starts with the header.
          await this.#o.output.write(
            await compress(enc.encode(this.#o.encoder.header), this.#o.compression),
          );
          this.#needHeader = false;
        }
        await this.#o.output.write(chunk);
      } catch (err) {
        this.#failed = shortReason(err);
        this.#o.warn(`${this.name}: cannot write (${this.#failed}); no more samples go there`);
      }
    }
  }

  async close(info?: Parameters<Sink["close"]>[0]): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    const { deadline } = resolveClose(info);
    // Write what is queued (or wait for the pump in progress), bounded by the deadline.
    const done = (async () => {
      // After a failure the pump writes nothing: what is still queued stays, and waiting for
      // it would spin on resolved promises forever (the deadline timer could never fire).
      while ((this.#queue.length > 0 && !this.#failed) || this.#pump) await this.#kick();
    })();
    const inTime = await settlesWithin(done, Math.max(0, deadline - Date.now()));
    if (!inTime) this.#o.warn(`${this.name}: output did not drain before the flush timeout`);
    if (this.#dropped > 0) this.#o.warn(`${this.name}: ${this.#dropped} samples dropped`);
    if (inTime) this.#o.output.close();
  }
}
