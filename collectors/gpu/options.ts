/** The GPU options, spread into OPTIONS (cli/options.ts). */
import type { OptionDef } from "../../base/option.ts";

export const GPU_OPTIONS: readonly OptionDef[] = [
  {
    name: "no-gpu",
    type: "boolean",
    env: "TRACKER_NO_GPU",
    toml: ["gpu.disabled"],
    default: false,
    help: "No GPU collection (no NVML, no nvidia-smi, no amdgpu reads).",
  },
  {
    name: "nvidia-smi",
    type: "string",
    env: "TRACKER_NVIDIA_SMI",
    toml: ["gpu.nvidia_smi"],
    default: "nvidia-smi",
    metavar: "PATH",
    help: "nvidia-smi to use when NVML cannot be loaded.",
  },
];
