import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** How a command ended. */
export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** The compiled command line, at the same place relative to this compiled helper. */
const CLI = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "cli", "bin.js");

/**
 * Runs `polypack ARGS` as a separate process, as CI would (CI=true, no terminal), under a chosen
 * umask and environment, and reports how it ended instead of throwing.
 */
export function polypack(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; umask?: string; timeoutMs?: number } = {},
): Promise<Outcome> {
  const shell = `umask ${options.umask ?? "022"}; exec "$0" "$@"`;
  return new Promise((resolve) => {
    execFile(
      "/bin/sh",
      ["-c", shell, process.execPath, CLI, ...args],
      {
        cwd: options.cwd,
        env: { ...process.env, CI: "true", ...options.env },
        maxBuffer: 64 * 1024 * 1024,
        // A command that must fail fast is killed after this long (and then reports exit -1).
        ...(options.timeoutMs !== undefined
          ? { timeout: options.timeoutMs, killSignal: "SIGKILL" as const }
          : {}),
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
