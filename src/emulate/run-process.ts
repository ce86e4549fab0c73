import { spawn } from "node:child_process";
import { onInterruptCleanup } from "../util/cleanup.js";

/** How a program run ended. */
export interface ProcessOutcome {
  /** The exit code, or null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Whether it ran out of time and was killed with its process tree. */
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** Wall time in milliseconds. */
  ms: number;
}

/** How much of each output stream is kept; the rest is dropped with a note. */
export const OUTPUT_CAP_BYTES = 1024 * 1024;

/**
 * Runs a program in its own process group, with exactly `env`, and collects its output. After
 * `timeoutMs` the whole group is killed (proot and qemu start children of their own), and so is it
 * when the caller's `signal` aborts. Never throws for the program's failures: a program that cannot
 * start ends with code 127 and the reason on stderr.
 */
export function runProcess(
  program: string,
  args: readonly string[],
  options: { cwd: string; env: Record<string, string>; timeoutMs: number },
): Promise<ProcessOutcome> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(program, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const stdout = collector();
    const stderr = collector();
    child.stdout.on("data", stdout.add);
    child.stderr.on("data", stderr.add);
    let timedOut = false;
    let settled = false;
    const killGroup = (): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutMs);
    // A test run stopped by the user must not leave emulated builds behind, nor let them write
    // into the scratch folder while it is removed: the group goes with the interrupt's clean-ups.
    const onExit = (): void => killGroup();
    process.once("exit", onExit);
    const unregisterInterrupt = onInterruptCleanup(killGroup);
    const finish = (code: number | null, signal: NodeJS.Signals | null, extra = ""): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      process.off("exit", onExit);
      unregisterInterrupt();
      // Children the program left running in its group go with it.
      killGroup();
      resolve({
        code,
        signal,
        timedOut,
        stdout: stdout.text(),
        stderr: stderr.text() + extra,
        ms: Date.now() - started,
      });
    };
    child.once("error", (error) => finish(127, null, `${program}: ${error.message}\n`));
    child.once("close", (code, signal) => finish(code, signal));
  });
}

function collector(): { add: (chunk: Buffer) => void; text: () => string } {
  const chunks: Buffer[] = [];
  let size = 0;
  let dropped = 0;
  return {
    add: (chunk: Buffer) => {
      if (size >= OUTPUT_CAP_BYTES) {
        dropped += chunk.length;
        return;
      }
      const kept = chunk.subarray(0, OUTPUT_CAP_BYTES - size);
      chunks.push(kept);
      size += kept.length;
      dropped += chunk.length - kept.length;
    },
    text: () =>
      Buffer.concat(chunks).toString("utf8") + (dropped > 0 ? `\n[${dropped} more bytes not kept]\n` : ""),
  };
}
