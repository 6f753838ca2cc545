/**
 * Decoding of amdgpu's binary `gpu_metrics` sysfs file (drivers/gpu/drm/amd/include/
 * kgd_pp_interface.h). Little-endian, naturally aligned C structs behind a 4-byte header;
 * a field of 0xFFFF means "not provided by this ASIC/firmware".
 */

export interface GpuMetrics {
  structureSize: number;
  formatRevision: number;
  contentRevision: number;
  /** average_gfx_activity, percent. */
  gfxActivityPct?: number;
  /** average_gfxclk_frequency, MHz. */
  gfxclkMhz?: number;
  /** temperature_edge, °C. */
  temperatureEdgeC?: number;
  /** average_socket_power (v1.4+: curr_socket_power), W. */
  socketPowerW?: number;
}

/** Byte offsets of the u16 fields we read, per `format.content` revision. */
interface Layout {
  edge?: number;
  gfxActivity: number;
  socketPower: number;
  gfxclk?: number;
}

// v1_0: u64 system_clock_counter right after the header (offset 8 with natural alignment).
const V1_0: Layout = { edge: 16, gfxActivity: 28, socketPower: 34, gfxclk: 40 };
// v1_1..v1_3: temperatures first; energy_accumulator/system_clock_counter before the clocks.
const V1_1_TO_3: Layout = { edge: 4, gfxActivity: 16, socketPower: 22, gfxclk: 40 };
// v1_4/v1_5 (MI300): no edge sensor and only per-instance current clocks.
const V1_4_TO_5: Layout = { gfxActivity: 12, socketPower: 10 };

function layoutFor(format: number, content: number): Layout | undefined {
  if (format !== 1) return undefined; // v2/v3 are APU layouts: sysfs fallbacks cover them
  if (content === 0) return V1_0;
  if (content >= 1 && content <= 3) return V1_1_TO_3;
  if (content === 4 || content === 5) return V1_4_TO_5;
  return undefined;
}

/** Header plus the fields we use; undefined when the header is truncated or empty. */
export function decodeGpuMetrics(bytes: Uint8Array): GpuMetrics | undefined {
  if (bytes.byteLength < 4) return undefined;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const structureSize = v.getUint16(0, true);
  const formatRevision = v.getUint8(2);
  const contentRevision = v.getUint8(3);
  if (structureSize < 4) return undefined;
  const out: GpuMetrics = { structureSize, formatRevision, contentRevision };
  const layout = layoutFor(formatRevision, contentRevision);
  if (layout === undefined) return out;
  const end = Math.min(structureSize, bytes.byteLength);
  const u16 = (at: number | undefined): number | undefined => {
    if (at === undefined || at + 2 > end) return undefined;
    const value = v.getUint16(at, true);
    return value === 0xFFFF ? undefined : value;
  };
  const gfx = u16(layout.gfxActivity);
  const clk = u16(layout.gfxclk);
  const edge = u16(layout.edge);
  const power = u16(layout.socketPower);
  if (gfx !== undefined) out.gfxActivityPct = gfx;
  if (clk !== undefined) out.gfxclkMhz = clk;
  if (edge !== undefined) out.temperatureEdgeC = edge;
  if (power !== undefined) out.socketPowerW = power;
  return out;
}
