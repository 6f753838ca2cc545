/**
 * Wrapper mode: starts the command with inherited stdio, forwards signals to it, adopts and
 * reaps orphaned descendants (child subreaper, and PID 1 in a container), and maps its exit to
 * the tracker's exit code like a shell does.
 */
import { EARLY_SIGNALS } from "./early_signals.ts";
import { errorText, RuntimeError } from "../base/errors.ts";
import { processGroups, setChildSubreaper } from "../base/libc.ts";
import { SPAWNED } from "../base/spawned.ts";

/** Signals forwarded to the wrapped command (docs/COMPATIBILITY.md Part A); the same ones are held at start. */
const FORWARDED: readonly Deno.Signal[] = EARLY_SIGNALS;

/** Signals a terminal sends to its whole foreground process group (keys ^C and ^\). */
const TERMINAL_SIGNALS: ReadonlySet<Deno.Signal> = new Set(["SIGINT", "SIGQUIT"]);

/** Linux signal numbers (the same on x86_64 and aarch64) of the signals we name. */
export const SIGNAL_NUMBERS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGXCPU: 24,
  SIGXFSZ: 25,
};

/**
 * Exit code for a finished child: its code, or 128+N when signal N killed it. Deno already
 * reports 128+N as the code of a signal death; the table covers any platform that does not.
 */
export function exitCodeOf(status: { code: number; signal: Deno.Signal | null }): number {
  if (status.signal) {
    const n = SIGNAL_NUMBERS[status.signal];
    if (n !== undefined) return 128 + n;
  }
  return status.code;
}

/**
 * Starts `argv` with inherited stdio; failures are one line with the shell's exit code.
 * @param beforeSpawn runs between building the command (Deno's first build costs ~10–20 ms
 *   of CPU) and the spawn itself: `--cgroup` enters the job's cgroup there.
 */
export function spawnCommand(argv: readonly string[], beforeSpawn?: () => void): Deno.ChildProcess {
  const [cmd, ...args] = argv;
  if (cmd === undefined || cmd === "") throw new RuntimeError("no command to run", 2);
  try {
    const command = new Deno.Command(cmd, {
      args,
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    });
    beforeSpawn?.();
    const child = command.spawn();
    SPAWNED.add(child.pid);
    return child;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new RuntimeError(`cannot run "${cmd}": command not found`, 127);
    }
    if (err instanceof Deno.errors.PermissionDenied) {
      throw new RuntimeError(`cannot run "${cmd}": permission denied (not executable?)`, 126);
    }
    throw new RuntimeError(`cannot run "${cmd}": ${errorText(err)}`, 126);
  }
}

/**
 * True when the terminal already delivered `sig` to the child: it was typed at a terminal whose
 * foreground process group is ours, which the child shares. Forwarding it would deliver it twice.
 */
function terminalDelivered(sig: Deno.Signal): boolean {
  if (!TERMINAL_SIGNALS.has(sig)) return false;
  for (const fd of [0, 1, 2]) {
    const g = processGroups(fd);
    if (g) return g.own === g.foreground;
  }
  return false;
}

/** Forwards FORWARDED signals to `pid` until the returned function is called. */
export function forwardSignals(pid: number, onSignal?: (sig: Deno.Signal) => void): () => void {
  const handlers = FORWARDED.map((sig) => {
    const handler = () => {
      onSignal?.(sig);
      if (terminalDelivered(sig)) return;
      try {
        Deno.kill(pid, sig);
      } catch { /* already exited */ }
    };
    Deno.addSignalListener(sig, handler);
    return [sig, handler] as const;
  });
  return () => {
    for (const [sig, handler] of handlers) Deno.removeSignalListener(sig, handler);
  };
}

/**
 * Makes the tracker the child subreaper, so orphans of the command re-parent to it (core/adopter.ts
 * reaps them); false when the kernel or libc does not allow it. PID 1 adopts orphans anyway.
 */
export function enableSubreaper(): boolean {
  return Deno.pid === 1 || setChildSubreaper();
}
