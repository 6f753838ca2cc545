/**
 * PIDs this process started through Deno (the wrapped command, nvidia-smi …). Deno reaps those
 * itself; the orphan reaper must leave them alone or Deno would never see their exit status.
 */
export const SPAWNED = new Set<number>();
