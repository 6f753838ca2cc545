import { strictEqual } from "node:assert/strict";
import { NO_PROCESS_TREE, type Sample } from "../base/sample.ts";
import { CSV_COLUMNS, CSV_HEADER, encodeCsvRow } from "./csv.ts";

const EXACT_HEADER =
  "timestamp,system_processes,system_utime,system_stime,system_cpu_usage,system_memory_free_mib,system_memory_used_mib,system_memory_buffers_mib,system_memory_cached_mib,system_memory_active_mib,system_memory_inactive_mib,system_disk_read_bytes,system_disk_write_bytes,system_disk_space_total_gb,system_disk_space_used_gb,system_disk_space_free_gb,system_net_recv_bytes,system_net_sent_bytes,system_gpu_usage,system_gpu_vram_mib,system_gpu_utilized,process_pid,process_children,process_utime,process_stime,process_cpu_usage,process_memory_mib,process_disk_read_bytes,process_disk_write_bytes,process_gpu_usage,process_gpu_vram_mib,process_gpu_utilized\n";

export function sampleFixture(): Sample {
  return {
    timestamp_secs: 1780000000,
    timestamp_ms: 1780000000123,
    actual_interval_ms: 2000,
    job_name: null,
    tracked_pid: null,
    cpu: {
      utilization_pct: 1.23456,
      cgroup_usage_secs: null,
      cgroup_utilization_pct: null,
      per_core_pct: [],
      utime_secs: 1.5,
      stime_secs: 0.25,
      process_count: 312,
      ...NO_PROCESS_TREE,
    },
    memory: {
      total_mib: 16000,
      free_mib: 2000,
      available_mib: 8000,
      used_mib: 8000,
      used_pct: 50,
      buffers_mib: 100,
      cached_mib: 4500,
      swap_total_mib: 0,
      swap_used_mib: 0,
      swap_used_pct: 0,
      active_mib: 6000,
      inactive_mib: 3000,
    },
    network: [
      {
        interface: "eth0",
        mac_address: null,
        driver: null,
        operstate: "up",
        speed_mbps: null,
        mtu: 1500,
        rx_bytes_per_sec: 100.9,
        tx_bytes_per_sec: 50,
        rx_bytes_total: 0,
        tx_bytes_total: 0,
      },
      {
        interface: "eth1",
        mac_address: null,
        driver: null,
        operstate: "up",
        speed_mbps: null,
        mtu: 1500,
        rx_bytes_per_sec: 0.6,
        tx_bytes_per_sec: 0,
        rx_bytes_total: 0,
        tx_bytes_total: 0,
      },
    ],
    disk: [
      {
        device: "sda",
        model: null,
        vendor: null,
        serial: null,
        device_type: "ssd",
        capacity_bytes: 1e12,
        virtual: false,
        mounts: [{
          mount_point: "/",
          filesystem: "ext4",
          total_bytes: 100e9,
          used_bytes: 60e9,
          available_bytes: 35e9,
          used_pct: 60,
        }],
        read_bytes_per_sec: 1024,
        write_bytes_per_sec: 512.75,
        read_bytes_total: 0,
        write_bytes_total: 0,
      },
      {
        // dm-0 stacked on sda: its I/O must not be summed again; its mounts count.
        device: "dm-0",
        model: null,
        vendor: null,
        serial: null,
        device_type: "ssd",
        capacity_bytes: 5e11,
        virtual: true,
        mounts: [{
          mount_point: "/home",
          filesystem: "ext4",
          total_bytes: 50e9,
          used_bytes: 10e9,
          available_bytes: 40e9,
          used_pct: 20,
        }],
        read_bytes_per_sec: 1024,
        write_bytes_per_sec: 512,
        read_bytes_total: 0,
        write_bytes_total: 0,
      },
    ],
    gpu: [],
    "resource-tracker-version": "0.1.0",
  };
}

Deno.test("CSV header is exactly the 32 contract columns", () => {
  strictEqual(CSV_HEADER, EXACT_HEADER);
  strictEqual(CSV_COLUMNS.length, 32);
});

Deno.test("CSV row: units, decimals, physical-only I/O, empty process columns", () => {
  const row = encodeCsvRow(sampleFixture(), 1);
  strictEqual(
    row,
    "1780000000.123,312,1.500,0.250,1.2346,2000,8000,100,4500,6000,3000,2048,1025,150.000000,75.000000,75.000000,202,100,0.0000,0.0000,0,,,,,,,,,,,\n",
  );
  strictEqual(row.trimEnd().split(",").length, 32);
});

Deno.test("CSV row: first sample uses the configured interval; tracked process fields filled", () => {
  const s = sampleFixture();
  delete s.actual_interval_ms;
  s.tracked_pid = 42;
  Object.assign(s.cpu, {
    process_child_count: 0,
    process_utime_secs: 0.5,
    process_stime_secs: 0.125,
    process_cores_used: 1.00004,
    process_pss_mib: 256.0234, // fractional MiB: 4 decimals, as the reference CSV (issue 13)
    process_disk_read_bytes: 0,
    process_disk_write_bytes: 67108864,
    process_gpu_usage: 0.5,
    process_gpu_vram_mib: 1024,
    process_gpu_utilized: 1,
  });
  s.gpu = [{
    uuid: "GPU-1",
    name: "H100",
    device_type: "GPU",
    host_id: "0",
    detail: {},
    utilization_pct: 50,
    vram_total_bytes: 80 * 1048576,
    vram_used_bytes: 1048576 * 1.5,
    vram_used_pct: 1.9,
    temperature_celsius: 40,
    power_watts: 100,
    frequency_mhz: 1500,
    core_count: null,
  }];
  const cols = encodeCsvRow(s, 0.5).trimEnd().split(",");
  strictEqual(cols[11], "512"); // 1024 B/s × 0.5 s
  strictEqual(cols[18], "0.5000");
  strictEqual(cols[19], "1.5000");
  strictEqual(cols[20], "1");
  strictEqual(
    cols.slice(21).join(","),
    "42,0,0.5000,0.1250,1.0000,256.0234,0,67108864,0.5000,1024.0000,1",
  );
});

Deno.test("CSV never prints NaN or negative byte counts", () => {
  const s = sampleFixture();
  s.cpu.utilization_pct = NaN;
  s.network[0]!.rx_bytes_per_sec = -5;
  const cols = encodeCsvRow(s, 1).split(",");
  strictEqual(cols[4], "0.0000");
  strictEqual(cols[16], "1"); // only eth1's 0.6 × 2 s
  strictEqual(CSV_HEADER, EXACT_HEADER);
});
