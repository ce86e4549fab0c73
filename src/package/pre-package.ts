import { spawn } from "node:child_process";
import type { Writable } from "node:stream";
import { PolypackError } from "../errors/index.js";
import { withoutPolypackSecrets } from "../registry/credentials/secret-env.js";

/** How to run the pre-package command. */
export interface PrePackageOptions {
  /** The buildpack directory: the working directory and POLYPACK_BUILDPACK_DIR. */
  buildpackDir: string;
  /** POLYPACK_TARGETS: `os/arch[/variant]` values separated by spaces. */
  targets: string;
  /** The environment it inherits (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Where its stdout and stderr go (default: this process's stderr, so stdout stays clean for --json). */
  output?: Writable;
}

/**
 * Runs `[metadata] pre-package` once, through `/bin/sh -c` as jam does, from the buildpack
 * directory, with POLYPACK_TARGETS and POLYPACK_BUILDPACK_DIR set. Both of its output streams are
 * passed to `output`. polypack's secret variables are not passed on. A non-zero exit, a signal or a missing program throws PRE_PACKAGE_FAILED.
 */
export async function runPrePackage(command: string, options: PrePackageOptions): Promise<void> {
  const output = options.output ?? process.stderr;
  const child = spawn("/bin/sh", ["-c", command], {
    cwd: options.buildpackDir,
    env: {
      // The script is the buildpack author's code; it has no business with registry passwords.
      ...withoutPolypackSecrets(options.env ?? process.env),
      POLYPACK_TARGETS: options.targets,
      POLYPACK_BUILDPACK_DIR: options.buildpackDir,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const forward = (chunk: Buffer): void => {
    output.write(chunk);
  };
  child.stdout.on("data", forward);
  child.stderr.on("data", forward);
  const { code, signal, error } = await new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    error?: Error;
  }>((resolve) => {
    child.once("error", (spawnError) => resolve({ code: null, signal: null, error: spawnError }));
    child.once("close", (exitCode, exitSignal) => resolve({ code: exitCode, signal: exitSignal }));
  });
  if (error === undefined && code === 0) return;
  const how = error
    ? `could not start: ${error.message}`
    : signal
      ? `was killed by ${signal}`
      : `exited with status ${code}`;
  throw new PolypackError("PRE_PACKAGE_FAILED", `pre-package ${JSON.stringify(command)} ${how}`, {
    cause: error,
    hint:
      code === 127
        ? `the command was not found; pre-package paths are relative to ${options.buildpackDir}`
        : "its output is above; fix the script or run it by hand from the buildpack directory",
  });
}
