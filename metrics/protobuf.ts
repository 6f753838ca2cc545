/**
 * A minimal protocol-buffers writer: enough for the two fixed messages we send (Prometheus
 * `WriteRequest`, OTLP `ExportMetricsServiceRequest`). Fields are written in field order;
 * nested messages are built first and embedded as bytes.
 */
const enc = new TextEncoder();

export class PbWriter {
  #chunks: Uint8Array[] = [];
  #len = 0;

  #push(b: Uint8Array): void {
    this.#chunks.push(b);
    this.#len += b.length;
  }

  #varint(n: bigint | number): void {
    let v = BigInt.asUintN(64, BigInt(n));
    const out: number[] = [];
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    this.#push(Uint8Array.from(out));
  }

  #tag(field: number, wire: number): void {
    this.#varint((field << 3) | wire);
  }

  /** int32/int64/uint64/enum/bool (wire type 0). */
  varint(field: number, v: number | bigint | boolean): this {
    this.#tag(field, 0);
    this.#varint(typeof v === "boolean" ? (v ? 1 : 0) : v);
    return this;
  }

  double(field: number, v: number): this {
    this.#tag(field, 1);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    this.#push(b);
    return this;
  }

  fixed64(field: number, v: bigint): this {
    this.#tag(field, 1);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
    this.#push(b);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.#tag(field, 2);
    this.#varint(b.length);
    this.#push(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, enc.encode(s));
  }

  message(field: number, m: PbWriter): this {
    return this.bytes(field, m.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.#len);
    let at = 0;
    for (const c of this.#chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}
